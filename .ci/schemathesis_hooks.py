"""Schemathesis hooks for this API (loaded through SCHEMATHESIS_HOOKS by .ci/schemathesis.sh).

A generated `Idempotency-Key` repeats across requests (hypothesis draws short values such as
"0" again and again), and the API rightly answers 422 `idempotency_key_reused` when a key comes
back with another body. That says nothing about the request and stops the stateful phase's
chains (account -> deal -> quote -> order -> invoice -> payment) at their first step. So every
schema-valid request gets a key of its own; replays are tested in tests/api (conventions.rs).
Negative cases keep their generated header, so malformed keys are still refused with 400.
"""

import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    key = next((name for name in headers if name.lower() == "idempotency-key"), None)
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if key is not None and positive:
        headers[key] = str(uuid.uuid4())
