"""Promise-to-pay extraction: how much the customer said they will pay, and by when.

From the customer's final utterances (or ``unknown`` ones, with a single
channel): an amount (一万, 3000元, 一万二, 1.5万, 两千五, 两万块) or a share of the
debt (一半, 三分之一, 还清) together with a pay verb (还/付/转/凑…) or a date
(两天内, 下周五前, 月底, 15号之前, 下个月10号前, resolved against the call's date).
A bare amount answers the agent's "能还多少" when it is said right after it; a
promise without a date takes one from the customer's next or previous utterance.
Amounts the customer owes (欠款两万, 一共三万) are not promises, but they turn
"一半" into money. "还不了一万" is not a promise. Each promise keeps the utterance
it came from. Heuristics over real speech: meant to catch the usual phrasings, not all.
Pure functions; any thread.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date

from assist.zh.dates import find_due_date
from assist.store.masking import mask_text
from assist.zh.numerals import CN_DIGIT_CHARS, parse_number

CN = CN_DIGIT_CHARS + "俩仨"
_AMOUNT = re.compile(
    rf"(?<![\d.*{CN}周期拜第星])"  # * : the tail of a masked number
    rf"(?P<num>\d++(?:\.\d+)?[十百千万]*+|[{CN}]++)"
    r"(?P<unit>块钱|块|元|万元)?"
    r"(?![天号日周个年点岁次期分秒%半倍]|月(?!底|末|初|中))"  # 3个月, 10号: not money; 1.5万月底: money
)
_FRACTION = re.compile(rf"(?P<frac>一半|半数|(?P<den>[{CN}\d]+)分之(?P<num>[{CN}\d]+)|全部|全额|还清|结清|一次性还)")
_PAY = re.compile(r"(?:还款|还上|还清|还|付|交|转|打过去|打给|凑|存进|补上)(?![是有没在不要得行好])")
_NEGATION = re.compile(r"还不[了上起]|没钱|不还|没办法|不能还|凑不|付不|拿不出|不可能|没有钱|还不出")
_OWED = re.compile(r"欠款|欠了|欠|一共|总共|总额|本金|逾期金额|应还|账单|待还|剩下|还差")
_ASKS_AMOUNT = re.compile(r"多少|能还|先还|还款金额|金额")
CUSTOMER_SPEAKERS = ("customer", "unknown")
MIN_AMOUNT = 100.0  # a bare numeral below this ("一下", "两个") is not money


@dataclass(frozen=True)
class Promise:
    amount: float | None  # yuan; None when only a share was said and the debt is unknown
    fraction: float | None  # 0.5 for 一半, 1.0 for 还清; None for a plain amount
    owed: float | None  # the debt it refers to, when said in the call
    due: date | None
    due_text: str
    amount_text: str
    utterance_id: int | None
    speaker: str
    text: str
    at_s: float | None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["due"] = self.due.isoformat() if self.due else None
        return d


def _clean(text: str) -> str:
    """Spaces out (recognizers put them between words); phone/ID/card numbers starred, never money."""
    return mask_text(re.sub(r"\s+", "", text or ""))


def _amounts(s: str):
    """(start, end, value, text, owed?) for each money amount in ``s``."""
    for m in _AMOUNT.finditer(s):
        value = parse_number(m.group("num"))
        if value is None or value <= 0:
            continue
        if value < MIN_AMOUNT and not m.group("unit"):
            continue
        before = s[max(0, m.start() - 5):m.start()]
        owed = bool(_OWED.search(before)) and not _PAY.search(before[-2:] if before else "")
        yield m.start(), m.end(), value, m.group(0), owed


def _fraction(s: str) -> tuple[float, str] | None:
    m = _FRACTION.search(s)
    if not m:
        return None
    word = m.group("frac")
    if word in ("一半", "半数"):
        return 0.5, word
    if m.group("den"):
        den, num = parse_number(m.group("den")), parse_number(m.group("num"))
        return ((num / den, word) if den and num and num <= den else None)
    return 1.0, word


def find_owed(utterances: list[dict]) -> float | None:
    """The last debt amount mentioned in the call (欠款两万, 一共三万块), by anyone."""
    owed = None
    for u in utterances:
        for _s, _e, value, _t, is_owed in _amounts(_clean(u.get("text", ""))):
            if is_owed:
                owed = value
    return owed


def _promise_in(u: dict, call_date: date, owed: float | None, prev_text: str) -> Promise | None:
    s = _clean(u.get("text", ""))
    if not s:
        return None
    due = find_due_date(s, call_date)
    candidates = [a for a in _amounts(s) if not a[4]]
    pay_anywhere = bool(_PAY.search(s))
    for start, end, value, text, _owed in candidates:
        window = s[max(0, start - 6):start]
        if _NEGATION.search(window):
            continue
        paid_nearby = bool(_PAY.search(s[max(0, start - 4):start]) or _PAY.search(s[end:end + 2]))
        bare_answer = (len(s) - (end - start) <= 3) and bool(_ASKS_AMOUNT.search(prev_text))
        if paid_nearby or due or bare_answer or (pay_anywhere and text.endswith(("元", "块", "块钱"))):
            return Promise(value, None, owed, due.date if due else None, due.text if due else "", text,
                           u.get("id"), u.get("speaker", ""), u.get("text", ""), u.get("start_s"))
    frac = _fraction(s)
    if frac and (pay_anywhere or due) and not _NEGATION.search(s):
        share, word = frac
        amount = round(owed * share, 2) if owed else None
        return Promise(amount, share, owed, due.date if due else None, due.text if due else "", word,
                       u.get("id"), u.get("speaker", ""), u.get("text", ""), u.get("start_s"))
    return None


def extract_promises(utterances: list[dict], call_date: date) -> list[Promise]:
    """Every promise to pay in a call's utterances (dicts with id, speaker, text, start_s), in order."""
    # the debt as known at each utterance (the last one mentioned so far), in one pass
    owed_at: list[float | None] = []
    last = None
    for u in utterances:
        last = find_owed([u]) or last
        owed_at.append(last)
    owed_total = last
    promises: list[Promise] = []
    customer_rows = [i for i, u in enumerate(utterances) if u.get("speaker") in CUSTOMER_SPEAKERS]
    for k, i in enumerate(customer_rows):
        u = utterances[i]
        prev_text = _clean(utterances[i - 1].get("text", "")) if i > 0 else ""
        owed_so_far = owed_at[i] or owed_total
        p = _promise_in(u, call_date, owed_so_far, prev_text)
        if p is None:
            continue
        if p.due is None:  # "一万二" then "下周五吧": the date comes in the next (or came in the last) breath
            for j in customer_rows[k + 1:k + 2] + customer_rows[max(0, k - 1):k]:
                due = find_due_date(utterances[j].get("text", ""), call_date)
                if due:
                    p = Promise(**{**p.__dict__, "due": due.date, "due_text": due.text})
                    break
        promises.append(p)
    return promises
