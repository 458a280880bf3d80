"""Moved to doctor.collect.probe (live requests are a collector); this path is kept for one release."""

from doctor.collect.probe import (
    DEFAULT_BODY,
    KEY_ENV,
    MAX_CONCURRENCY,
    MAX_REQUESTS,
    ProbePlan,
    Result,
    access_log,
    check_plan,
    evidence_for,
    run,
    send,
    shown_url,
    unanswered,
)

Plan = ProbePlan  # the old name

__all__ = ["DEFAULT_BODY", "KEY_ENV", "MAX_CONCURRENCY", "MAX_REQUESTS", "Plan", "ProbePlan", "Result", "access_log",
           "check_plan", "evidence_for", "run", "send", "shown_url", "unanswered"]
