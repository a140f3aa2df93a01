"""Retention: how long call records are kept, applied at start-up and once a day, with a dry run.

Two periods, in days:
- ``transcript_days`` (default 730, two years): the full transcript (what was said,
  the warnings' quotes, FAQ matches, script lines shown) is kept this long, then
  replaced by the call's summary (stages, warning counts, promises to pay, notes).
  Two years because China's credit-card business rules (《商业银行信用卡业务监督管理办法》
  and the collection rules built on it) expect collection call records to be kept at
  least two years, and PIPL art. 19 says personal information is kept no longer than
  the purpose needs: the transcript holds the most personal data, so it goes first.
- ``summary_days`` (default 1095, three years): then the whole session goes. Three
  years is the general limitation period for civil claims (Civil Code art. 188), so a
  repayment dispute can still be checked against what was promised.
Shorter policies than the rules require are the operator's decision; a summary period
shorter than the transcript period is refused (it would make no sense).

Settings: ``<config dir>/retention.yaml`` (``transcript_days: 730`` / ``summary_days: 1095``),
or ``ASSIST_RETAIN_TRANSCRIPT_DAYS`` / ``ASSIST_RETAIN_SUMMARY_DAYS``, which win.
``plan`` lists what would go (the dry run); ``apply`` does it, in one transaction,
written to the audit table. Runs on the caller's thread (the recorder's writer thread
at start and daily, or the ``assist sessions retention`` command).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from assist.store.errors import StoreError

DEFAULT_TRANSCRIPT_DAYS = 730
DEFAULT_SUMMARY_DAYS = 1095
MAX_DAYS = 36500  # a hundred years: anything longer is a typo
DAY = 86400.0
SETTINGS_FILE = "retention.yaml"


@dataclass(frozen=True)
class RetentionPolicy:
    transcript_days: int = DEFAULT_TRANSCRIPT_DAYS
    summary_days: int = DEFAULT_SUMMARY_DAYS
    source: str = "默认值"

    def describe(self) -> str:
        return (f"完整通话记录保留 {self.transcript_days} 天，之后只保留摘要和还款承诺；"
                f"摘要保留 {self.summary_days} 天后整条删除（设置来源：{self.source}）。")


@dataclass
class RetentionPlan:
    strip: list[dict] = field(default_factory=list)  # sessions whose transcript is replaced by its summary
    delete: list[dict] = field(default_factory=list)  # sessions removed entirely

    @property
    def empty(self) -> bool:
        return not self.strip and not self.delete


def _days(value, name: str, where: str) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise StoreError(f"保留策略设置 {name}（{where}）必须是天数（整数），而不是 {value!r}。") from None
    if not 1 <= n <= MAX_DAYS:
        raise StoreError(f"保留策略设置 {name}（{where}）必须在 1 到 {MAX_DAYS} 天之间，而不是 {n}。")
    return n


def load_policy() -> RetentionPolicy:
    """The policy in force: environment > retention.yaml > defaults. Bad values raise StoreError (Chinese)."""
    from assist import config

    transcript, summary, sources = DEFAULT_TRANSCRIPT_DAYS, DEFAULT_SUMMARY_DAYS, []
    path = config.config_dir() / SETTINGS_FILE
    if path.exists():
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
            raise StoreError(f"无法读取保留策略文件 {path}：{e}") from None
        if not isinstance(data, dict):
            raise StoreError(f"保留策略文件 {path} 应写成 transcript_days: 730 和 summary_days: 1095 这样的设置。")
        if "transcript_days" in data:
            transcript = _days(data["transcript_days"], "transcript_days", str(path))
        if "summary_days" in data:
            summary = _days(data["summary_days"], "summary_days", str(path))
        sources.append(str(path))
    env_t, env_s = config.env("ASSIST_RETAIN_TRANSCRIPT_DAYS"), config.env("ASSIST_RETAIN_SUMMARY_DAYS")
    if env_t:
        transcript = _days(env_t, "ASSIST_RETAIN_TRANSCRIPT_DAYS", "环境变量")
        sources.append("环境变量")
    if env_s:
        summary = _days(env_s, "ASSIST_RETAIN_SUMMARY_DAYS", "环境变量")
        sources.append("环境变量")
    if summary < transcript:
        raise StoreError(f"保留策略有误：摘要保留天数（{summary}）不能短于完整记录保留天数（{transcript}）。")
    return RetentionPolicy(transcript, summary, "、".join(dict.fromkeys(sources)) or "默认值")


def plan(store, policy: RetentionPolicy, now: float | None = None) -> RetentionPlan:
    """What ``apply`` would remove now (the dry run). Demo calls follow the same policy."""
    now = time.time() if now is None else now
    strip_before = now - policy.transcript_days * DAY
    delete_before = now - policy.summary_days * DAY
    rows = store._query(
        "SELECT s.id, s.started_at, s.kind, s.transcript_removed_at,"
        " (SELECT count(*) FROM utterances u WHERE u.session_id=s.id) AS n_utterances"
        " FROM sessions s WHERE s.started_at < ? ORDER BY s.started_at", (strip_before,))
    out = RetentionPlan()
    for r in rows:
        if r["started_at"] < delete_before:
            out.delete.append(r)
        elif r["transcript_removed_at"] is None:
            out.strip.append(r)
    return out


def apply(store, policy: RetentionPolicy, now: float | None = None, who: str | None = None, kb=None) -> RetentionPlan:
    """Apply the policy now; return what was removed (audited as 'retention')."""
    todo = plan(store, policy, now)
    if todo.empty:
        return todo
    store.apply_retention([r["id"] for r in todo.strip], [r["id"] for r in todo.delete],
                          policy.describe(), who=who, kb=kb)
    return todo
