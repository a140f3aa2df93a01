"""The post-call check: a second pass over the whole transcript once the call has ended.

Live checking judges each line with what was known at that moment; after the call
the whole conversation is known, so this pass can also say:
  * who was really on the line: a line said while nobody was confirmed, to someone
    who then turned out to be a third party, disclosed the debt to a third party
    (hindsight the live check cannot have);
  * whether the required disclosures were made: the agent's identity and company,
    the purpose of the call (to the debtor only), and for an extension its fee and
    new schedule;
  * whether what the agent wrote down as the customer's promise is what the
    customer said (amount and date);
  * whether what the agent offered is within the playbook's terms (``terms:`` in its
    YAML: the longest extension, the most instalments, whether waivers exist at all and
    what is waived as a matter of course); with no playbook known, an offer is judged by
    the most generous terms any playbook gives, so a wrong guess never accuses;
  * whether the agent granted a waiver they cannot grant;
  * every warning of the live rules again, with the party known at each line.
Every finding carries its evidence: the utterance index, its time and its text.

Pure computation over a list of utterances (no I/O, no Qt): ``assist analyze
--post-call`` prints the report as JSON, the review window shows it. Runs on
whichever thread calls it; about a millisecond per utterance (bench/bench_post_call.py).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Sequence

from assist.engine.compliance import ComplianceChecker
from assist.engine.party import PartyTracker
from assist.events import PARTY_KINDS, PartyState, Utterance
from assist.knowledge.model import KnowledgeBase, OfferTerms
from assist.zh.dates import find_due_date
from assist.zh.numerals import CN_DIGIT_CHARS, parse_number
from assist.zh.text import compact

AGENT = ("agent", "unknown")

# what the required disclosures sound like (compact text, spaces removed)
_SELF_ID = re.compile(r"(我是|这里是|这边是|我们是|我叫|我姓|工号)(.{0,14})(公司|分期|金融|银行|信用卡中心|客服|专员|经理|中心|工号|平台)")
_PURPOSE = re.compile(r"(关于|是这样|打电话|来电|联系您|找您|通知您|提醒您|跟您说|跟您沟通|和您沟通|给您介绍)(.{0,20})"
                      r"(还款|账单|分期|借款|贷款|逾期|到期|展期|欠款|扣款|方案)"
                      r"|(您|你)(的|这|那)?(.{0,10})(分期|账单|借款|贷款|欠款)(.{0,10})(到期|逾期|扣款|没还|未还|应还)")
_EXTENSION_OFFER = re.compile(r"展期|延期还款|延长(还款)?(期限|时间)|延后还款|缓(一|几)(个)?月")
_EXTENSION_FEE = re.compile(r"手续费|服务费|费率|费用|百分之.{0,6}收|收取|[0-9]+(\.[0-9]+)?[%％]")
_EXTENSION_SCHEDULE = re.compile(r"还款(计划|日|时间|日期|期限)|每(个)?月(.{0,6})还|(延|推)(后|迟|到)(.{0,6})(月|天|号|日|期)"
                                 r"|分(成)?[0-9" + CN_DIGIT_CHARS + r"]+期|[0-9" + CN_DIGIT_CHARS + r"]+个月(以内|之内|内|后)|新的?(还款)?(方案|计划)")
_WAIVER = re.compile(r"(免|减免|全免|免掉|免了|免除|抹掉|抹零|打折|少收|不收)(.{0,6})(罚息|利息|违约金|滞纳金|本金|手续费|钱)"
                     r"|(罚息|利息|违约金|滞纳金|本金)(.{0,6})(免|减免|全免|免掉|免了|不用还|不用交|不收|一分不要)"
                     r"|剩下的?(就)?不用还|(就|都)不用还了|不算(你|您)?逾期")
_WAIVER_OK = re.compile(r"申请|审批|提交|以审批为准|按(照)?(公司)?(政策|规定)|无法|不能|没有权限|不会|不可以|做不了主")
_WAIVER_APPLY = re.compile(r"申请|审批|提交")
# an offer of time: 展期 / 延期 / 延后 / 缓 … with a length, the length before or after the word
_NUM = r"[0-9" + CN_DIGIT_CHARS + r"两俩半]+"
_SPAN = r"(?:" + _NUM + r"(?:到|至|-|~|或))?(" + _NUM + r")(个)?(年|月|周|星期|礼拜|天|日)"
_EXTEND_WORD = r"(?:展期|延期|延后|延长|推迟|往后(?:延|推|挪)|缓|宽限|顺延|延)"
_EXTENSION_SPAN = re.compile(_EXTEND_WORD + r".{0,8}?" + _SPAN + r"|" + _SPAN + r"(?:的|之内|以内|内)?.{0,3}?" + _EXTEND_WORD)
_INSTALMENTS = re.compile(r"(?:分|拆)(?:成)?(" + _NUM + r")期")
_NOT_OFFERED = re.compile(r"不能|无法|不行|没办法|没法|做不到|不可以|不支持|办不了|不予")
_DATE_AFTER_MONTH = re.compile(r"[0-9" + CN_DIGIT_CHARS + r"]|号|日|底|初|中旬|上旬|下旬")
_UNIT_MONTHS = {"年": 12.0, "月": 1.0, "周": 7 / 30, "星期": 7 / 30, "礼拜": 7 / 30, "天": 1 / 30, "日": 1 / 30}
_RECORDS = re.compile(r"记录|记下|登记|备注|确认一下|跟您确认|约定|那就|就这么定|给您备注")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?[万千]?|[" + CN_DIGIT_CHARS + r"俩仨]{1,8})(块钱|块|元|万元|万)")
_PROMISE_VERB = re.compile(r"还|付|交|转|凑|打")


@dataclass(frozen=True)
class Evidence:
    """One utterance a finding rests on: its index in the call, its time, who said what."""

    index: int
    start: float | None
    speaker: str
    text: str

    def as_dict(self) -> dict:
        return {"index": self.index, "start": self.start, "speaker": self.speaker, "text": self.text}


@dataclass(frozen=True)
class Finding:
    check: str  # third_party | before_verified | disclosure | promise | offer | waiver | rule
    severity: str  # info | warning | critical
    title: str
    message: str  # what was wrong and what to do instead
    evidence: tuple[Evidence, ...] = ()
    rule_id: str = ""

    def as_dict(self) -> dict:
        return {"check": self.check, "rule": self.rule_id, "severity": self.severity, "title": self.title,
                "message": self.message, "evidence": [e.as_dict() for e in self.evidence]}


@dataclass(frozen=True)
class PostCallReport:
    party: PartyState
    party_history: tuple[tuple[int | None, PartyState], ...]
    disclosures: dict = field(default_factory=dict)  # name -> {"made": bool, "needed": bool, "evidence": [...]}
    findings: tuple[Finding, ...] = ()
    n_utterances: int = 0
    elapsed_ms: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        out = {"critical": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out

    def as_dict(self) -> dict:
        def party(p: PartyState) -> dict:
            return {"kind": p.kind, "relation": p.relation, "label": p.label, "source": p.source,
                    "evidence": p.evidence, "at_index": p.at_index}
        return {
            "party": party(self.party),
            "party_history": [party(p) for _, p in self.party_history],
            "disclosures": self.disclosures,
            "findings": [f.as_dict() for f in self.findings],
            "counts": self.counts,
            "n_utterances": self.n_utterances,
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


def _ev(i: int, u: Utterance) -> Evidence:
    return Evidence(i, u.start, u.speaker, u.text)


def _amounts(text: str) -> set[float]:
    out = set()
    for m in _AMOUNT.finditer(text):
        num = m.group(1) + ("万" if m.group(2).startswith("万") and not m.group(1).endswith("万") else "")
        v = parse_number(num)
        if v is not None and v >= 100:
            out.add(round(v, 2))
    return out


def post_call_check(kb: KnowledgeBase, utterances: Sequence[Utterance], *,
                    started_at: datetime | None = None, customer_channel: bool | None = None,
                    agent_party: Sequence[tuple[int, str, str]] = (), semantics=None,
                    playbook_id: str | None = None) -> PostCallReport:
    """The whole-call report for a finished call.

    ``customer_channel``: the customer's answers were recorded (None: yes if any customer or
    mixed line is present). ``agent_party``: the agent's own settings during the call, as
    (utterance index it was set before, kind, relation). ``semantics``: the KB's sentence
    vectors (``KbSemantics``), to read answers by meaning as the live call did.
    ``playbook_id``: the call's playbook, whose ``terms`` offers are judged by (None: the most
    generous terms of any playbook).
    """
    t0 = time.perf_counter()
    finals = [u for u in utterances if u.final and u.text.strip()]
    if customer_channel is None:
        customer_channel = any(u.speaker in ("customer", "unknown") for u in finals)
    checker = ComplianceChecker(kb)
    checker.reset(started_at)
    tracker = PartyTracker()
    tracker.attach_semantics(semantics)
    # a kind this version does not know (written by a newer one) is left out, not guessed at;
    # sorted by position only: two settings before the same line keep their order (the later wins)
    overrides = sorted(((int(i), k, r) for i, k, r in agent_party if k in PARTY_KINDS), key=lambda o: o[0])
    findings: list[Finding] = []
    party_at: list[PartyState] = []  # the party in effect when each line was said
    live: list[list] = []  # the live warnings of each line
    for i, u in enumerate(finals):
        while overrides and overrides[0][0] <= i:
            _, kind, rel = overrides.pop(0)
            tracker.set_by_agent(kind, rel, at_index=i)
        tracker.observe(u)
        party_at.append(tracker.state)
        live.append(list(checker.check(u, party=tracker.state,
                                       answers_audible=customer_channel or tracker.customer_heard)))
    for _, kind, rel in overrides:  # set after the last line: it still says who was on the line
        tracker.set_by_agent(kind, rel, at_index=max(len(finals) - 1, 0))
    final_party = tracker.state

    # hindsight: lines said before anyone answered, to a person who then said they were a third party
    first_answer = next((p for p in party_at if p.kind != "unknown"), None)
    hindsight = first_answer is not None and first_answer.kind == "third_party"
    tp_rules = [r for r in kb.rules if r.parties and "third_party" in r.parties and r.kind == "pattern"]
    hindsight_checker = ComplianceChecker(kb) if hindsight and tp_rules else None
    for i, (u, ws) in enumerate(zip(finals, live)):
        for w in ws:
            if w.severity == "info":
                continue
            rule = next((r for r in kb.rules if r.id == w.rule_id), None)
            check = "rule"
            if rule is not None and rule.parties:
                check = "third_party" if party_at[i].kind == "third_party" else "before_verified"
            elif w.rule_id in ("unauthorized_waiver",):
                check = "waiver"
            findings.append(Finding(check, w.severity, w.title, w.message, (_ev(i, u),), w.rule_id))
        if hindsight_checker and party_at[i].kind == "unknown" and u.speaker in AGENT:
            assert first_answer is not None  # hindsight_checker exists only when first_answer does
            for w in hindsight_checker.check(u, party=first_answer, answers_audible=True):
                if w.rule_id in {r.id for r in tp_rules} and not any(f.rule_id == w.rule_id and f.evidence[0].index == i
                                                                      for f in findings):
                    findings.append(Finding(
                        "third_party", "critical" if u.speaker == "agent" else "warning", w.title,
                        f"说这句话时对方尚未表明身份，随后对方表示是{first_answer.label}。{w.message}",
                        (_ev(i, u), _ev(first_answer.at_index or i, finals[first_answer.at_index or i])), w.rule_id))

    disclosures = _disclosures(finals, party_at, final_party)
    for name, d in disclosures.items():
        if d["needed"] and not d["made"]:
            findings.append(Finding("disclosure", "warning", d["title"], d["message"],
                                    tuple(Evidence(**e) for e in d["evidence"]), f"disclosure.{name}"))
    terms, terms_of = _offer_terms(kb, playbook_id)
    findings += _waivers(finals, {f.evidence[0].index for f in findings if f.check == "waiver"}, terms, terms_of)
    findings += _offers(finals, terms, terms_of)
    findings += _promises(finals, started_at.date() if started_at else date.today())
    order = {"critical": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (f.evidence[0].index if f.evidence else 10 ** 9, order.get(f.severity, 3)))
    history = tuple((p.at_index, p) for p in tracker.history)
    return PostCallReport(final_party, history, disclosures, tuple(findings), len(finals),
                          (time.perf_counter() - t0) * 1000)


def _disclosures(finals: list[Utterance], party_at: list[PartyState], final_party: PartyState) -> dict:
    agent = [(i, u, compact(u.text).text) for i, u in enumerate(finals) if u.speaker in AGENT]
    to_debtor = final_party.kind == "debtor"

    def first(pattern: re.Pattern, only_debtor: bool = False):
        for i, u, t in agent:
            if only_debtor and party_at[i].kind != "debtor":
                continue
            if pattern.search(t):
                return i, u
        return None

    labels = {"未表明身份和所属机构": "表明身份和所属机构", "未向本人说明来电目的": "说明来电目的",
              "介绍展期时未说明费用": "说明展期费用", "介绍展期时未说明新的还款安排": "说明展期后的还款安排"}

    def entry(title: str, message: str, hit, needed: bool, evidence_if_missing=()) -> dict:
        """``label`` names the disclosure; ``title`` and ``message`` are the finding when it is missing."""
        ev = [_ev(*hit).as_dict()] if hit else [e.as_dict() for e in evidence_if_missing]
        return {"label": labels[title], "made": hit is not None, "needed": needed, "title": title,
                "message": message, "evidence": ev}

    out = {}
    any_agent = bool(agent)
    ident = first(_SELF_ID)
    # to a third party the agent says as little as possible: naming the lender is not required there
    out["identity"] = entry("未表明身份和所属机构", "通话中应说明自己的姓名或工号和所属机构：“您好，我是XX公司的客服专员XX。”",
                            ident, any_agent and final_party.kind != "third_party",
                            [_ev(agent[0][0], agent[0][1])] if agent else [])
    purpose = first(_PURPOSE, only_debtor=True)
    out["purpose"] = entry("未向本人说明来电目的", "确认是本人后，应说明来电目的（如本期账单到期、逾期还款或展期方案）。",
                           purpose, to_debtor)
    offer = first(_EXTENSION_OFFER, only_debtor=False)
    offered = offer is not None and to_debtor
    offer_ev = [_ev(*offer)] if offer else []
    out["extension_fee"] = entry("介绍展期时未说明费用", "介绍展期时要说明费用：收取多少手续费、如何计算、通过什么渠道支付。",
                                 first(_EXTENSION_FEE), offered, offer_ev)
    out["extension_schedule"] = entry("介绍展期时未说明新的还款安排", "介绍展期时要说明新的还款安排：延后多久、每期还多少、下次还款日。",
                                      first(_EXTENSION_SCHEDULE), offered, offer_ev)
    return out


def _offer_terms(kb: KnowledgeBase, playbook_id: str | None) -> tuple[OfferTerms, str]:
    """The terms offers are judged by, and whose they are (Chinese, for messages).

    The call's playbook when known; otherwise the most generous of all playbooks' terms
    (longest extension, most instalments, waivers by application if any playbook has them,
    every waivable item), so that not knowing the playbook never produces a finding."""
    book = kb.playbooks.get(playbook_id or "")
    if book is not None:
        return book.terms, f"话术“{book.title}”"
    books = list(kb.playbooks.values())

    def most(values):
        known = [v for v in values if v is not None]
        return None if not known or len(known) < len(books) else max(known)

    terms = OfferTerms(
        extension_months_max=most(b.terms.extension_months_max for b in books),
        installments_max=most(b.terms.installments_max for b in books),
        waiver="approval" if any(b.terms.waiver == "approval" for b in books) else "none",
        waivable=tuple(dict.fromkeys(w for b in books for w in b.terms.waivable)),
    )
    return terms, "所有话术"


def _months(number: str, unit: str) -> float | None:
    value = 0.5 if number == "半" else parse_number(number.replace("俩", "两"))
    return None if value is None else value * _UNIT_MONTHS[unit]


def _offers(finals: list[Utterance], terms: OfferTerms, whose: str) -> list[Finding]:
    """Offers beyond the playbook's terms: a longer extension or more instalments than it allows.

    A line that states the limit or declines (最多六个月 / 一年是不行的) is not an offer."""
    if terms.extension_months_max is None and terms.installments_max is None:
        return []
    out = []
    for i, u in enumerate(finals):
        if u.speaker not in AGENT:
            continue
        t = compact(u.text).text
        if _NOT_OFFERED.search(t):
            continue
        if terms.extension_months_max is not None:
            longest = 0.0
            for m in _EXTENSION_SPAN.finditer(t):
                number, ge, unit = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(4, 5, 6)
                end = m.end(3) if m.group(1) else m.end(6)
                if unit == "月" and not ge and _DATE_AFTER_MONTH.match(t, end):
                    continue  # 延到3月15号: a date, not a length
                months = _months(number, unit)
                longest = max(longest, months or 0.0)
            if longest > terms.extension_months_max + 1e-6:
                out.append(Finding(
                    "offer", "warning", "提供的展期超出话术允许的期限",
                    f"{whose}最多可办 {terms.extension_months_max} 个月的展期或延期，这句话许诺的期限更长。"
                    f"请按话术的条件说明：“最长可以为您办理 {terms.extension_months_max} 个月以内的展期。”超出的需求请提交申请，以审批为准。",
                    (_ev(i, u),), "post_call.offer_terms"))
                continue
        if terms.installments_max is not None:
            most_n = max((parse_number(m.group(1)) or 0 for m in _INSTALMENTS.finditer(t)), default=0)
            if most_n > terms.installments_max:
                out.append(Finding(
                    "offer", "warning", "提供的分期期数超出话术允许的范围",
                    f"{whose}最多可分 {terms.installments_max} 期，这句话许诺的期数更多。请按话术的条件说明可选的期数。",
                    (_ev(i, u),), "post_call.offer_terms"))
    return out


def _waivers(finals: list[Utterance], already: set[int], terms: OfferTerms | None = None,
             whose: str = "") -> list[Finding]:
    """Waivers the live rule may have missed: judged with the agent's next line too (审批 said right after).

    What the playbook's terms waive as a matter of course (``waivable``) is no finding; under a
    playbook without waivers (``waiver: none``) even an application offered is one."""
    terms = terms or OfferTerms()
    out = []
    for i, u in enumerate(finals):
        if u.speaker not in AGENT or i in already:
            continue
        t = compact(u.text).text
        m = _WAIVER.search(t)
        if not m or any(compact(w).text in t for w in terms.waivable if w):
            continue
        if terms.waiver == "none" and _WAIVER_APPLY.search(t):
            out.append(Finding("offer", "warning", "提供了话术中没有的减免",
                               f"{whose}没有减免政策，不要承诺或代为申请减免；客户坚持时请说明可以通过官方渠道咨询。",
                               (_ev(i, u),), "post_call.offer_terms"))
            continue
        if _WAIVER_OK.search(t):
            continue
        nxt = next((compact(v.text).text for v in finals[i + 1:i + 3] if v.speaker in AGENT), "")
        if _WAIVER_OK.search(nxt):
            continue
        out.append(Finding("waiver", "warning", "承诺了无权给予的减免",
                           "减免须按公司政策申请审批，坐席不能当场承诺。请说：“我可以帮您提交减免申请，结果以审批为准。”",
                           (_ev(i, u),), "post_call.waiver"))
    return out


def _promises(finals: list[Utterance], call_date: date) -> list[Finding]:
    """What the agent wrote down as the customer's promise must be what the customer said."""
    out = []
    said_amounts: set[float] = set()
    said_dates: set[tuple[date, str]] = set()
    last_customer: tuple[int, Utterance] | None = None
    for i, u in enumerate(finals):
        t = compact(u.text).text
        if u.speaker == "customer":
            if _PROMISE_VERB.search(t):
                said_amounts |= _amounts(t)
                due = find_due_date(t, call_date)
                if due:
                    said_dates.add((due.date, due.text))
                last_customer = (i, u)
            continue
        if u.speaker != "agent" or not _RECORDS.search(t) or last_customer is None:
            continue
        amounts = _amounts(t)
        due = find_due_date(t, call_date)
        # a refinement is fine (下个月 → 下个月十号); more money or an earlier day than the customer said is not
        wrong_amount = amounts and said_amounts and max(amounts) > max(said_amounts)
        wrong_date = due and said_dates and not any(_same_time(due.date, d, txt) for d, txt in said_dates)
        if wrong_amount or wrong_date:
            what = "金额" if wrong_amount else "日期"
            out.append(Finding("promise", "warning", f"记录的还款{what}与客户所说不一致",
                               "复述还款承诺时，请按客户原话确认金额和日期，不要替客户加码或提前。",
                               (_ev(i, u), _ev(*last_customer)), "post_call.promise"))
    return out


def _same_time(recorded: date, said: date, said_text: str) -> bool:
    """Is the recorded day what the customer meant? 下个月 covers the whole month, 下周 the whole week."""
    if said_text.endswith(("月", "个月")) and (recorded.year, recorded.month) == (said.year, said.month):
        return True
    if said_text.endswith(("周", "礼拜", "星期")) and 0 <= (said - recorded).days <= 6:
        return True
    return (said - recorded).days <= 1  # a day's slack for how 前/之前 are read
