"""Who is on the line: the debtor, a third party, or someone who will not say.

The call's party state starts ``unknown`` and moves on the customer's answers to
the identity question (请问是张强先生吗 → 我就是 / 我不是他 / 我是他老婆 / 打错了 /
你找谁 …). Matching works on what offline recognition outputs: spaces and
punctuation removed, fillers stripped, and the key phrases also matched on toneless
pinyin so homophone errors (我是它老婆, 大错了) still count. When a sentence encoder
is available, a short answer no pattern explains is compared with example answers
of each kind (lexical first, semantic second: patterns are exact where they hit,
the encoder covers phrasings nobody listed).

How a line moves the state (later, explicit answers win, so a customer who
changes story (我不是他 … 好吧是我) ends where they ended):
  * strong statements count whenever they are said: 打错了, 我是他老婆, 我不是他,
    我就是, 好吧是我;
  * a bare yes / no (对 / 是的 / 嗯 / 不是) counts only as the first customer line
    after the agent's identity question;
  * evasion (你是谁 / 你找谁 / 什么事) marks ``refused`` only while nobody is known;
  * first-person talk about one's own loan (我下周就还) confirms the debtor only
    while nobody is known (a wife saying 我让他还 names him, not herself).
The agent's own setting (one key in the panel) wins over inference until changed.

With one mixed channel (speaker ``unknown``) a line is read as an answer only if
it does not read as the agent's (introductions, questions, company words), and
``assist.engine.compliance`` caps party-dependent findings at warning there,
because a line about the debt may be the other person's own words.
Runs on the engine's thread; one tracker per call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from assist.events import PartyState, Utterance
from assist.zh.text import compact, syllables

# relations named in answers (他/她/它: the recognizer writes any of them for "ta")
_TA = "(他|她|它|ta)"
# (dialect forms too: 娘/爹/老汉 for mother/father, 婆娘/屋里的/当家的 for a spouse; 俺 and 咱 are read as 我)
_FAMILY = ("老婆|妻子|爱人|媳妇|媳妇儿|太太|老公|丈夫|男人|妈妈|妈|母亲|老妈|爸爸|爸|父亲|老爸|儿子|女儿|闺女|"
           "姐姐|姐|妹妹|妹|哥哥|哥|弟弟|弟|家人|家属|家里人|家里的|亲戚|舅舅|舅妈|舅|姑姑|姨|阿姨|姨妈|叔叔|婶婶|伯伯|"
           "奶奶|爷爷|外婆|外公|姥姥|姥爷|婆婆|公公|岳母|岳父|丈母娘|老丈人|丈人|嫂子|弟媳|姐夫|妹夫|对象|女朋友|男朋友|"
           "未婚妻|未婚夫|前妻|前夫|娘|老娘|爹|老爹|老汉|老头|老头子|老伴|婆娘|屋里的|屋里人|当家的|孩子他爸|孩子他妈|"
           "孩他爸|孩他妈|娃他爹|娃他妈|侄子|侄女|外甥|外甥女|孙子|孙女|表哥|表姐|表弟|表妹|堂哥|堂姐|堂弟|堂妹|"
           "姑父|姨父|大伯|大爷|大娘|二叔|小叔|女婿|儿媳|儿媳妇|亲家|继父|继母|后妈|家长|监护人")
_COLLEAGUE = ("同事|领导|老板|上司|下属|主管|经理|老总|员工|师傅|徒弟|同一个单位|单位的|公司的|班组长|组长|班长|主任|"
              "队长|店长|工友|部门的|科室的|一个科室|一个部门|一个单位|一个公司|一个厂|一起上班|一块上班|一起工作|"
              "合伙人|搭档|财务|会计|出纳|人事|秘书|助理|前台|保安|门卫")
_FRIEND = "朋友|同学|老同学|室友|舍友|哥们|哥们儿|兄弟|闺蜜|发小|邻居|房东|租客|老乡|同乡|熟人|战友|网友"


def _rx(*parts: str) -> re.Pattern:
    return re.compile("|".join(parts))


_RELATION_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (rel, _rx(
        f"(我是|我|是|这是|我们是){_TA}(们)?的?({words})",  # 我是她们班组长
        # a word or two between: 我是她大学同学 / 我是他们公司的同事 / 我是他以前的领导
        f"(我是|这是|我们是){_TA}(们)?的?(大学|高中|初中|小学|中学|公司|单位|厂里|部门|以前|之前|老)的?({words})",
        f"{_TA}是我的?({words})",
        f"我(是|就是)?(他|她|它)?的?({words})(啊|呀)?$" if rel == "family" else f"^我是({words})$",
    ))
    for rel, words in (("family", _FAMILY), ("colleague", _COLLEAGUE), ("friend", _FRIEND))
)
# a stray word the recognizer put in between (我是她大学就同学): at most three characters; asked
# only when no pattern above reads the line, and the smallest gap wins (我是他朋友的哥哥: his friend)
_RELATION_LOOSE: tuple[tuple[str, re.Pattern], ...] = tuple(
    (rel, re.compile(f"(我是|这是|我们是){_TA}(们)?的?(.{{1,3}}?)({words})"))
    for rel, words in (("family", _FAMILY), ("colleague", _COLLEAGUE), ("friend", _FRIEND))
)


def _relation(t: str) -> str | None:
    """The relation a line names, or None. The longest match wins (我是他哥们: a friend, not 他哥)."""
    best: tuple[int, str] | None = None
    for rel, pat in _RELATION_PATTERNS:
        m = pat.search(t)
        if m and (best is None or m.end() - m.start() > best[0]):
            best = (m.end() - m.start(), rel)
    if best is not None:
        return best[1]
    loose: tuple[int, int, str] | None = None
    for rel, pat in _RELATION_LOOSE:
        m = pat.search(t)
        if m and (loose is None or (len(m.group(4)), -len(m.group(5))) < (loose[0], loose[1])):
            loose = (len(m.group(4)), -len(m.group(5)), rel)
    return loose[2] if loose is not None else None
# the family member speaks of the debtor in the third person: 我老公他不在 / 我儿子出去了
_FAMILY_SPEAKS = _rx(f"^(我|我们家)({_FAMILY}){_TA}?(不在|出去|上班|没在|出门|睡觉|在外地|打工|手机|电话)")
_WORKPLACE = _rx("(这里|这边|这儿|我们这)是(.{0,8})(公司|单位|前台|办公室|门店|厂|车间)",
                 "(我们|这是)(公司|单位)(的)?(电话|座机|前台)", f"{_TA}(去|在)(开会|出差)(了|呢)?$",
                 f"(我们|我跟{_TA}|我和{_TA}|咱们)(是)?(在)?(一个|同一个|一家|一起)(科室|部门|单位|公司|厂|办公室|组|车间|店|上班)",
                 "(办公室|科室|单位|公司|部门|车间)的?(座机|电话|固话|分机)", "(一个|同一个)(科室|部门|办公室|车间)的",
                 "^(公司|单位)前台")
_WRONG_NUMBER = _rx(
    "打错(了|电话)?", "找错(人)?了", "不认识(这个人|他|她|它|你说的|你要找的|这人|叫)?",
    "没(有)?(这个|这|叫这个|你说的这个)人", "没有叫", "查无此人", "没这号人",
    "不是(他|她|它)的(号|电话|手机)", "这(个)?(号码?|手机号?|电话)(是)?(我)?(新|刚|才)(办|买|换|用)",
    "(号码?|电话)(已经)?换(人|主人)了", "(我|这)(是)?(新|刚)(办|换)的(号|卡|手机)",
    "(不知道|不晓得)(你说的是谁|这是谁|是谁|他是谁|这个人)", "你(打|找)错", "没得(这个|这|叫这个|你说的这个)?人")
_NOT_HIM = _rx(
    f"我不是{_TA}(本人)?", "我不是(本人|那个人|你要找的|你说的|机主)", "^不是(我|本人)(啊|呀|的)?$",
    "不是本人", f"我不是.{{0,3}}(先生|女士|小姐)",
    f"^{_TA}(现在|正)?(不在|没在|出去|出门|上班|睡觉|在外地|外出|在洗澡|洗澡|在开车|开车|在忙|在睡觉|在干活|在上班|在厕所|没空|不方便接)", f"{_TA}(现在)?(人)?不在(家|这|这里|这边|身边)?",
    f"(我|可以)帮你转告{_TA}|有什么事(我)?(帮你)?转告",
    f"{_TA}(的)?(手机|电话)(在我这|落在|放在|没带)",
    f"{_TA}(?!们)[^我]{{0,3}}(打工|出差|上班去了|出门了|不在家)")  # not 他们派我出差: the debtor's own trip
_DEBTOR = _rx(
    "我就是|就是我|^(是|对|嗯|对的|是的|没错)?我(本人)?(啊|呀|的)?$", "^(对|嗯|没错|对的|是的|好吧|行吧|好|那)?(我)?(就)?是我(本人)?(?!们)", "(对|是|嗯|没错|对的|是的|好吧|行吧|好|算了|那)(我)?(就)?是我(本人)?",
    "我是(他|她)?本人|本人(就是|是)我|我本人(啊|呀)?$|^本人$|^本人(啊|呀|在)", "是我(.{0,2})(什么事|有什么事|咋了|怎么了|你说|你讲)",
    "(好吧|行吧|好|算了|那)(我)?承认(我)?是", "(对|是|嗯)(我)?就是(他|她|本人|我)", "^(对|是|嗯)我是$|^我是(的)?(啊|呀)?$",
    "我(就)?是(张|王|李|赵|刘|陈|杨|黄|周|吴|徐|孙|马|朱|胡|郭|何|林|高|罗|郑|梁|谢|宋|唐|许|韩|冯|邓|曹|彭|曾|肖|田|董|潘|袁|蔡|蒋|余|于|杜|叶|程|魏|苏|吕|丁|任|卢|姚|沈|钟|姜|崔|谭|陆|范|汪|廖|石|金|韦|贾|夏|付|方|邹|熊|白|孟|秦|邱|侯|江|尹|薛|闫|段|雷|龙|黎|史|陶|贺|毛|郝|顾|龚|邵|万|覃|武|钱|戴|严|欧|莫|孔|向|常|汤|康|易|乔|赖|文|施|洪|辛|柯|庄|葛|牛|伍)[\u4e00-\u9fff]{1,2}(啊|呀)?$")
_YES = _rx("^(嗯|对|是|是的|对的|没错|对呀|是啊|对啊|是呀|嗯嗯|对对|对对对|是是|正是|没错没错|嗯对|嗯是|对是|是我|是本人|"
           "对头|是嘞|是咧|嗯呐|嗯哪|是滴|对滴|是哒|对哒|是噻)"
           "(我是|我就是|是我)?(你|您)?(哪位|谁|是谁|哪里|什么事|有什么事|有事吗|啥事|说|讲|请讲|你说|找我|怎么了|咋了|什么事情)?(吗|呢|啊|呀)?$")
_NO = _rx("^(不是|不对|没有|错了|你弄错了|搞错了|不是的|不是啊|都不是)(的|啊|呀)?$")
# 你找他干嘛 neither confirms nor denies: the speaker keeps who they are to themselves
_EVASIVE = _rx("(你|您)(是)?(谁|哪位|哪个|哪里|哪儿|干什么的|干嘛的|什么人|哪个公司|哪家)", "^哪位", "你找谁|找谁|你要找谁|找哪个|找哪位",
               f"(你|您)找{_TA}(干嘛|干什么|做什么|有什么事|有事|啥事|什么事)",
               "(有)?(什么|啥)事(情)?(吗|啊)?$", "你先说|凭什么(告诉|跟)你|为什么要告诉你|不方便(说|透露|告诉)|我不告诉你|你管我|跟你有什么关系|关你什么事",
               "你想干(嘛|什么)|你们想干(嘛|什么)", "你怎么(会)?有我(的)?(电话|号码)")
# first-person talk about one's own loan: 我下周就还 / 我这个月手头紧 / 我那笔分期
_OWN_DEBT = _rx("我(的)?(那笔|这笔|这个月|这期|那个)?(贷款|分期|欠款|借款|账单|钱)(.{0,6})(还|逾期|到期|扣)",
                "我(会|马上|下周|明天|后天|月底|过几天|发工资|一定|尽快|争取|今天|这周|下个月)(就)?(会)?还",
                "我(现在|最近|这个月|这几个月)?(真的)?(没钱|手头紧|资金紧张|还不上|还不起|失业|周转不开)", "我欠(你们|了)",
                "(给|帮)我(办|申请|弄)(个|一下)?(展期|延期|分期)", "我(想|要|能不能|可以)(申请)?(展期|延期|分期|晚点还|少还)")
_THIRD_PERSON = re.compile("他|她|它")
# the agent's own lines, when speakers are unknown (one mixed channel)
_AGENT_LIKE = _rx("分期|金融|银行|公司的|客服|专员|工号|经理|中心|请问|您好我是|本人吗|先生吗|女士吗|小姐吗|核实|确认一下|方便.{0,4}吗")
# the agent asking who is on the line
_IDENTITY_QUESTION = _rx(
    "请问(您|你)?是", "(您|你)是.{1,6}(本人)?(吗|么|嘛|对吧|是吧|对不对|是不是)", "是.{1,6}(先生|女士|小姐|本人|机主)(吗|么|嘛|对吧|是吧)?",
    "本人吗|本人对吧|是不是本人|是本人吗", "(找|联系)(一下)?.{1,4}(先生|女士|小姐)", ".{1,4}(先生|女士|小姐)(在吗|在不在|在家吗)",
    "是不是.{1,5}(先生|女士|小姐)", "核实.{0,4}身份|确认.{0,6}身份|(您|你)(是)?哪位", "机主", "(您|你)(跟|和|与)?.{0,4}(是)?什么关系",
    )
# 喂 张强吗: a bare name and 吗 (not 是这样吗 / 真的吗: no name is made of those characters)
_SHORT_NAME_QUESTION = re.compile("^(喂)?(.{2,3})(吗|么)$")
# fillers that start answers and carry nothing (kept apart from 嗯/对, which are answers)
_LEAD = re.compile("^(喂|哎|诶|啊|呃|额|哦|噢|那个|唉|哈)+")  # not 这个: 这个号码我刚办的
# dialect first persons (俺是他娘, 咱是他姐) read as 我; an oath (我他妈的没钱) names nobody's mother
_DIALECT_I = re.compile("俺|咱")
_OATH = re.compile("(他|她|它|你)(妈|娘)(的|了个)")

# Key phrases on fuzzy pinyin, for what the recognizer writes instead of the words: the same
# folding as FAQ matching (assist.zh: zh/z, ch/c, sh/s, n/l, -ng/-n), so 思我 reads as 是我 and
# 四我 too; and "ta" may come out as its aspiration pair "da" (我是大老公 for 我是她老公). The
# relation words are the lists above, turned into pinyin once, so a word added there counts here.
def _folded(words: str, min_syllables: int = 1) -> str:
    out = []
    for w in words.split("|"):
        keys = syllables(w)
        if len(keys) >= min_syllables:
            out.append(" ".join(keys))
    return "|".join(sorted(set(out), key=len, reverse=True))


_PTA = "(ta|da)"
_PINYIN: tuple[tuple[str, str, re.Pattern], ...] = (
    ("third_party", "wrong_number", re.compile(
        r"\b(da|ta) cuo (le|dian hua)\b|\bzao cuo (ren|le)\b|\bbu ren si (ta|da|zei|lei)\b|\bmei (you )?zei (ge )?ren\b")),
    *((("third_party", rel, re.compile(
        rf"\bwo si {_PTA} (de )?({_folded(words)})\b|\b{_PTA} si wo (de )?({_folded(words)})\b"
        rf"|^(wo )?si {_PTA} (de )?({_folded(words, 2)})\b")))
      for rel, words in (("family", _FAMILY), ("colleague", _COLLEAGUE), ("friend", _FRIEND))),
    ("third_party", "colleague", re.compile(r"\bban gong si\b(?! de (si|ren))|\b(yi|tong yi) ge (ke si|bu men|ban gong si)( de)?\b")),
    ("third_party", "other", re.compile(rf"\bwo bu si {_PTA}\b|^{_PTA} bu zai\b|\bbu si ben ren\b"
                                        rf"|\b{_PTA}( [a-z]+){{0,2}} (da gong|cu cai)\b")),
    ("debtor", "", re.compile(r"\bwo (jiu|qiu|xiu) si\b(?! {_PTA})|\bjiu si wo\b|\bwo ben ren\b|(?<!bu )\bsi ben ren\b"
                              # 好吧 是我 / 行吧 是我 / 算了 是我, and 是我 … 啥事 (a debtor asking what it is about)
                              r"|\b(hao|xin|suan) (ba|le) (wo )?(jiu )?si wo\b(?! men)"
                              r"|(?<!bu )\bsi wo\b(?! men)( [a-z]+){0,4} (sa|sen me) si\b"
                              .replace("{_PTA}", _PTA))),
)
# a relation with 是 dropped or a stray syllable put in (我她老公, 我是她大学就同学): only for relation
# words of two syllables or more (one-syllable keys such as ma, ba, ge are also 吗, 吧, 个)
_PINYIN_LOOSE = tuple(
    (rel, re.compile(rf"\bwo (si )?{_PTA}( [a-z]+){{0,2}} (de )?({_folded(words, 2)})\b"))
    for rel, words in (("family", _FAMILY), ("colleague", _COLLEAGUE), ("friend", _FRIEND)))
# evasion heard through errors: 你谁啊 / 你找她干嘛 (weak, like its lexical form); 你 is "li" once folded (n/l)
_PINYIN_EVASIVE = re.compile(rf"^(li )?(si )?sui (a|ya)\b|\b(li )?zao {_PTA} (gan( ma| sa| sen me)?|you sa si|sa si|you sen me si)\b")
# 是我 heard as 思我 / 时我: only as the short answer to the identity question (one garbled syllable
# allowed before it), like a bare 对; 那事我管不着 said later is no answer
_PINYIN_YES = re.compile(r"^([a-z]+ )?(dui |tui |en |jiu )?si wo\b(?! men| bu| mei| ye)(?!( [a-z]+){10})"
                         r"|^(si de|dui de|dui dui|dui|tui|en)( wo si| si wo| wo)?( sen me si| sa si| li suo)?( a| ya| la)?$")
# 不是 … heard through errors, as the first words of the answer (not 不是不想还 / 不是我不还)
_PINYIN_NO = re.compile(r"^(bu si|bu dui)\b(?! (bu|mei|wo bu|wo mei|wo de))")
# the agent's identity question heard through errors (请问是韩梅女士吗 -> 请问是航梅律笨任吗 / 您好 士范丽女士吗)
_PINYIN_QUESTION = re.compile(r"(xian sen|lv si|lu si|xiao jie|ben ren|ji zu)( [a-z]+){0,2} (ma|me|ba)$|\bqin wen (lin |li )?si\b")
# 你好 是周敏吗, misheard as 你好 是周敏马: 是 + a name + 吗, the whole line; not 是这样吗 / 是真的吗
_PINYIN_NAME_QUESTION = re.compile(r"^(wei |li hao |lin hao )*(jiu )?si( [a-z]+){2,3} (ma|me)$")
_NOT_NAME_CHARS = re.compile("[这那不真对样的了么我你您他她们什啥怎要会能可]")

# example answers for the encoder (what customers say, in their words); one list per reading
SEMANTIC_EXAMPLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("debtor", ""): ("我就是", "是我本人", "对 是我 你说吧", "嗯 我就是他", "没错 就是我 什么事", "对对 本人"),
    ("third_party", "family"): ("我是他老婆", "我是他妈妈", "我是他家里人", "他是我儿子", "我是他爱人 他不在家"),
    ("third_party", "colleague"): ("我是他同事", "这是他单位的电话", "我是他领导", "他在开会 我是他同事"),
    ("third_party", "friend"): ("我是他朋友", "我是他同学", "他手机放我这了 我是他朋友"),
    ("third_party", "wrong_number"): ("你打错了", "没有这个人", "我不认识他", "这个号码我刚办的", "你找错人了"),
    ("third_party", "other"): ("我不是他", "他不在", "他出去了 不在这", "不是本人"),
    ("refused", ""): ("你是谁", "你找他什么事", "你先说什么事", "凭什么告诉你", "你哪里的"),
}
_ANSWERS_FOR = None  # (KbSemantics, SemanticAnswers): the last KB's example vectors, shared by calls
SEMANTIC_MIN = 0.90  # e5 scores sit high and close together: demand a close paraphrase …
SEMANTIC_MARGIN = 0.02  # … that beats every other reading clearly


@dataclass(frozen=True)
class Reading:
    """What one customer line says about who is speaking."""

    kind: str
    relation: str = ""
    strength: str = "strong"  # strong | answer (bare yes/no after the question) | weak (evasion, own debt)
    how: str = "lexical"  # lexical | pinyin | semantic


# Who someone is, or whom the agent asks for, is said in a few words at the start of a turn:
# a line is read up to this many characters (a 1,000,000-character line costs no more than a long one)
READ_CHARS = 160


def _clean(text: str) -> str:
    t = _OATH.sub("", _DIALECT_I.sub("我", compact(text[:READ_CHARS * 2]).text[:READ_CHARS]))
    return _LEAD.sub("", t)


# an agent line this short, put as a question, that asks who is on the line is that question and
# nothing more (名字是我本人 also names 本人, but it is no question)
IDENTITY_QUESTION_MAX_CHARS = 24
_QUESTION_FORM = re.compile("(吗|么|嘛|吧|呢|马|麻)$|请问|是不是|对吧|是吧|对不对")
# the name the agent asks for: 请问是廖文斌先生吗 / 找一下王芳女士 / 是吕斌家吗 (two or three characters)
_ASKED_NAME = re.compile("(?:请问(?:您|你)?是|是|找一下|找|联系)([\u4e00-\u9fff]{2,3}?)(?:家)?(?:先生|女士|小姐|本人|吗|么|嘛|在吗|在家吗|$)")
_NOT_A_NAME = re.compile("^(您|你|他|她|我|这|那|哪|本人|机主|什么|不是|方便|现在|长江|分期|客服)")
# the customer names themself with the asked-for name (已换成 @): 我就是@ / 对 是@ / 算了 我是@
# (one character may stand between 我 and 是: 我就是, or 就 misheard as 酒 / 秋; never 不 or 没)
_SELF_NAMED = re.compile("(^|我|对|嗯|就|算了|好吧|行吧|没错|是的)[^不没他她它你您这那]?是@(?!的|家|他|她|们)|@就是我|我(就)?叫@")


# the same heard through errors: 握式韩志刚 (我是), one garbled syllable before 是 allowed
_PINYIN_SELF_NAMED = re.compile(r"(^|\b(wo|jiu|dui|tui|en|le|ba) )(?!(ta|da|ze|na|la|li) )([a-z]+ )?si zzz\b(?! de| jia)")


def asked_name(agent_text: str) -> str:
    """The debtor's name as the agent said it in an identity question ('' if none)."""
    m = _ASKED_NAME.search(_clean(agent_text))
    if m is None or _NOT_A_NAME.search(m.group(1)):
        return ""
    return m.group(1)


def _mark_name(t: str, name: str) -> str:
    """``t`` with the asked-for name replaced by @, also when the recognizer misheard it: the
    same fuzzy-pinyin keys, one syllable of a three-character name allowed to differ."""
    if not name:
        return t
    if name in t:
        return t.replace(name, "@")
    keys = syllables(name)
    n = len(name)
    if len(keys) != n:
        return t
    for i in range(len(t) - n + 1):
        window = t[i:i + n]
        got = syllables(window)
        if len(got) != n:
            continue
        wrong = sum(a != b for a, b in zip(got, keys))
        if wrong == 0 or (n >= 3 and wrong == 1 and got[0] == keys[0]):
            return t[:i] + "@" + t[i + n:]
    return t


def read_answer(text: str, *, after_question: bool, name: str = "") -> Reading | None:
    """What a customer line says about who they are, lexically; None if nothing.

    ``after_question``: this is the first customer line since the agent asked who they
    speak to, so a bare 对 / 不是 answers it. ``name``: the person the agent asked for
    (``asked_name``): said by the customer it stands for 他 (我是廖文斌他爸 / 廖文斌不在 /
    你找廖文斌干嘛), or, said as who they are (我就是廖文斌), names the debtor.
    """
    t = _clean(text)
    if not t:
        return None
    if name:
        marked = _mark_name(t, name)
        if marked != t:
            reading = read_answer(marked.replace("@", "他"), after_question=after_question)
            self_named = _SELF_NAMED.search(marked) or _PINYIN_SELF_NAMED.search(
                " ".join(syllables(marked.replace("@", "zzz"))))
            if self_named and (reading is None or reading.kind != "third_party"):
                return Reading("debtor")
            return reading
    if _WRONG_NUMBER.search(t):
        return Reading("third_party", "wrong_number")
    rel = _relation(t)
    if rel is not None:
        return Reading("third_party", rel)
    if _FAMILY_SPEAKS.search(t):
        return Reading("third_party", "family")
    if _WORKPLACE.search(t):
        return Reading("third_party", "colleague")
    if _NOT_HIM.search(t):
        # 她在洗澡 我是大老公 (她老公, misheard): the relation, if the sound names one, says more
        named = _pinyin_reading(" ".join(syllables(t)))
        if named is not None and named.kind == "third_party" and named.relation != "other":
            return named
        return Reading("third_party", "other")
    if _DEBTOR.search(t):
        return Reading("debtor")
    if after_question and _YES.search(t):
        return Reading("debtor", strength="answer")
    if after_question and _NO.search(t):
        return Reading("third_party", "other", strength="answer")
    spoken = " ".join(syllables(t))
    named = _pinyin_reading(spoken)
    if named is not None:
        return named
    if after_question and _PINYIN_YES.search(spoken):
        return Reading("debtor", strength="answer", how="pinyin")
    if after_question and _PINYIN_NO.search(spoken):
        return Reading("third_party", "other", strength="answer", how="pinyin")
    if _EVASIVE.search(t) or _PINYIN_EVASIVE.search(spoken):
        return Reading("refused", strength="weak", how="lexical" if _EVASIVE.search(t) else "pinyin")
    if _OWN_DEBT.search(t) and not _THIRD_PERSON.search(t):
        return Reading("debtor", strength="weak")
    return None


def _pinyin_reading(spoken: str) -> Reading | None:
    """Key phrases on fuzzy pinyin; the longest wins (ta ge men: a friend, not 他哥)."""
    best: tuple[int, str, str] | None = None
    for kind, rel, pat in _PINYIN:
        m = pat.search(spoken)
        if m and (best is None or m.end() - m.start() > best[0]):
            best = (m.end() - m.start(), kind, rel)
    if best is not None:
        return Reading(best[1], best[2], how="pinyin")
    for rel, pat in _PINYIN_LOOSE:
        if pat.search(spoken):
            return Reading("third_party", rel, how="pinyin")
    return None


def _asks_identity(t: str, by_sound: bool = True) -> bool:
    """Does an agent line (compact) ask who is on the line? ``by_sound``: also through recognition errors."""
    if _IDENTITY_QUESTION.search(t):
        return True
    short = _SHORT_NAME_QUESTION.search(t)
    if short and not _NOT_NAME_CHARS.search(short.group(2).removeprefix("是")):
        return True
    if not by_sound:
        return False
    spoken = " ".join(syllables(t))
    return bool(_PINYIN_QUESTION.search(spoken)) or (
        bool(_PINYIN_NAME_QUESTION.search(spoken)) and not _NOT_NAME_CHARS.search(t.split("是", 1)[-1]))


class SemanticAnswers:
    """Example answers as vectors; ``read`` gives the closest reading if it is close and clear.

    ``encoder`` encodes the examples (the KB's cached encoder, so a new call costs nothing);
    ``query`` encodes one live line (default: the same encoder).
    """

    def __init__(self, encoder, examples: Mapping[tuple[str, str], Sequence[str]] = SEMANTIC_EXAMPLES,
                 query: Callable[[str], np.ndarray | None] | None = None):
        self.encoder = encoder
        self.query = query or (lambda text: encoder.encode([text])[0])
        self.labels: list[tuple[str, str]] = []
        texts: list[str] = []
        for label, phrasings in examples.items():
            for p in phrasings:
                self.labels.append(label)
                texts.append(p)
        self.vectors = encoder.encode(texts)

    def read(self, text: str) -> Reading | None:
        v = self.query(text)
        if v is None:
            return None
        scores = self.vectors @ v
        best: dict[tuple[str, str], float] = {}
        for label, s in zip(self.labels, scores):
            best[label] = max(best.get(label, -1.0), float(s))
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        (label, top), second = ranked[0], (ranked[1][1] if len(ranked) > 1 else -1.0)
        if top < SEMANTIC_MIN or top - second < SEMANTIC_MARGIN:
            return None
        return Reading(label[0], label[1], strength="weak" if label[0] == "refused" else "strong", how="semantic")


class PartyTracker:
    """The party state of one call (engine thread)."""

    def __init__(self, encoder=None):
        self._semantic: SemanticAnswers | None = None
        if encoder is not None:
            try:
                self._semantic = SemanticAnswers(encoder)
            except Exception:  # the encoder failed to load its vectors: lexical reading still works
                self._semantic = None
        self.reset()

    def attach_semantics(self, semantics) -> None:
        """Read answers by meaning too, with the KB's encoder (``KbSemantics``); None: lexical only.

        The example vectors are made once per KbSemantics (cached encoder), not once per call.
        """
        if semantics is None:
            self._semantic = None
            return
        global _ANSWERS_FOR
        if _ANSWERS_FOR is None or _ANSWERS_FOR[0] is not semantics:
            try:
                _ANSWERS_FOR = (semantics, SemanticAnswers(semantics.kb_encoder, query=semantics.encode_query))
            except Exception:  # the encoder failed: lexical reading still works
                self._semantic = None
                return
        self._semantic = _ANSWERS_FOR[1]

    def reset(self) -> None:
        self.state = PartyState()
        self.asked_identity = False  # the agent asked, in an earlier line, who they speak to
        self.asked_now = False  # the last final line was the agent's identity question and nothing more
        self.name = ""  # the person the agent asked for (请问是廖文斌先生吗 -> 廖文斌), '' if not heard
        self.customer_heard = False  # any line from the customer's channel (or the mixed one)
        self.awaiting_answer = False  # the next customer line answers the identity question
        self.index = -1  # utterance number in the call (finals only)
        self.history: list[PartyState] = []  # every change, in order

    def set_by_agent(self, kind: str, relation: str = "", at_index: int | None = None) -> PartyState:
        """The agent's own setting from the panel: stands until they change it."""
        self.state = PartyState(kind=kind, relation=relation if kind == "third_party" else "",  # type: ignore[arg-type]
                                source="agent", evidence="", at_index=self.index if at_index is None else at_index)
        self.history.append(self.state)
        return self.state

    def _reads_as_agent(self, t: str) -> bool:
        return bool(_AGENT_LIKE.search(t)) or _asks_identity(t, by_sound=False)

    def observe(self, utt: Utterance) -> bool:
        """Take one final utterance into account; True if the party state changed."""
        if not utt.final or not utt.text.strip():
            return False
        self.index += 1
        self.asked_now = False
        t = _clean(utt.text)
        if utt.speaker == "agent" or (utt.speaker == "unknown" and self._reads_as_agent(t)):
            # (on the mixed channel: the agent's own line)
            # (through recognition errors only while nobody is known: the answer matters most then)
            if _asks_identity(t, by_sound=self.state.kind in ("unknown", "refused")):
                self.asked_now = len(t) <= IDENTITY_QUESTION_MAX_CHARS and bool(_QUESTION_FORM.search(t))
                self.awaiting_answer = True
                self.asked_identity = True
                self.name = asked_name(utt.text) or self.name
            return False
        self.customer_heard = True
        after_question = self.awaiting_answer
        self.awaiting_answer = False
        if self.state.source == "agent":
            return False
        reading = read_answer(utt.text, after_question=after_question, name=self.name)
        if reading is None and self._semantic is not None and len(t) <= 24:
            try:
                reading = self._semantic.read(t)
            except Exception:  # the encoder broke mid-call: go on by wording alone
                self._semantic = None
        if reading is None:
            return False
        if reading.kind == "refused" and not self.asked_identity and not _THIRD_PERSON.search(t):
            # 喂 谁啊 to a bare 喂 is how people pick up the phone: nobody asked them who they are
            # yet, so nothing was refused (你找他干嘛 names the person asked for: it still is)
            return False
        current = self.state.kind
        if reading.strength == "weak" and current not in ("unknown", "refused"):
            return False  # evasion or own-debt talk never undoes a clear answer
        if reading.kind == "refused" and current == "refused":
            return False
        relation = reading.relation
        if (reading.kind == current == "third_party" and relation == "other"
                and self.state.relation not in ("", "other")):
            relation = self.state.relation  # 我是他老婆 … 他不在: still his wife
        new = PartyState(kind=reading.kind, relation=relation,  # type: ignore[arg-type]
                         source="inferred", evidence=utt.text, at_index=self.index)
        if (new.kind, new.relation) == (self.state.kind, self.state.relation):
            return False
        self.state = new
        self.history.append(new)
        return True


# The agent's own setting (F7 in the panel) by the names a person types: the panel's Chinese
# words or the ids the store keeps (party_settings.kind / relation). A relation alone means a
# third party of that relation. Used by ``assist analyze --party``.
_SETTING_NAMES: dict[str, tuple[str, str]] = {
    "本人": ("debtor", ""), "债务人": ("debtor", ""), "债务人本人": ("debtor", ""), "debtor": ("debtor", ""),
    "第三人": ("third_party", "other"), "third_party": ("third_party", "other"),
    "非本人": ("third_party", "other"), "其他": ("third_party", "other"), "other": ("third_party", "other"),
    "家属": ("third_party", "family"), "家人": ("third_party", "family"), "family": ("third_party", "family"),
    "同事": ("third_party", "colleague"), "colleague": ("third_party", "colleague"),
    "朋友": ("third_party", "friend"), "friend": ("third_party", "friend"),
    "打错电话": ("third_party", "wrong_number"), "打错": ("third_party", "wrong_number"),
    "wrong_number": ("third_party", "wrong_number"),
    "拒绝确认": ("refused", ""), "拒绝": ("refused", ""), "refused": ("refused", ""),
    "未确认": ("unknown", ""), "身份未确认": ("unknown", ""), "unknown": ("unknown", ""),
}
SETTING_WORDS = "本人、第三人、家属、同事、朋友、打错电话、非本人、拒绝确认、未确认"


def parse_party_setting(name: str) -> tuple[str, str] | None:
    """(kind, relation) for a typed party name (本人 / 同事 / third_party/colleague …); None if unknown."""
    key = "".join(name.split()).lower().replace("／", "/")
    if key in _SETTING_NAMES:
        return _SETTING_NAMES[key]
    kind, sep, rel = key.partition("/")
    if sep and _SETTING_NAMES.get(kind, ("",))[0] == "third_party" and _SETTING_NAMES.get(rel, ("",))[0] == "third_party":
        return ("third_party", _SETTING_NAMES[rel][1])
    return None
