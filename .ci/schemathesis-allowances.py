"""Prints schemathesis [[operations]] entries: for each operation of the spec, the statuses that a
schema-valid request may still get for reasons no schema can express, each with its reason.

Usage: schemathesis-allowances.py <openapi.json>   (called by .ci/schemathesis.sh)

Schemathesis's own default for positive data (2xx, 3xx, 401, 403, 404, 409, 429) stays for every
operation: 404 for generated ids in paths, 409 for a state that forbids the step. What is added is
derived from the spec, so that a new operation gets exactly the allowances its parameters call
for, and one entry names one operation (the filters inside one entry combine with OR).
"""

import json
import sys

DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429"]

# Rules between values that no JSON Schema can state, by operation id.
RULES = {
    "forecast_report": [("400", "`to` is at most ten years after `from`, a rule between two parameters")],
    "activity_report": [("400", "`to` is not before `from` and at most ten years after it, and `group_by` names two different groupings with at most one period: rules between values")],
    "ticket_report": [("400", "`to` is not before `from` and at most ten years after it, a rule between two parameters")],
    "create_quote": [("422", "a line's product priced in another currency than the quote needs the line's own unit_price")],
    "update_quote": [("422", "a line's product priced in another currency than the quote needs the line's own unit_price")],
    "create_order": [("422", "a line's product priced in another currency than the order needs the line's own unit_price")],
    "create_invoice": [("422", "a line's product priced in another currency than the invoice needs the line's own unit_price")],
    "update_invoice": [("422", "a line's product priced in another currency than the invoice needs the line's own unit_price")],
    "issue_invoice": [("422", "`due_date` is not before `issue_date`, a rule between two fields")],
    "create_payment": [("422", "the payment's currency is the invoice's, which no schema of the request knows")],
    "close_opportunity": [("422", "`lost_to_competitor_id` goes with `outcome: lost` only, a rule between two fields")],
    "reschedule_activity": [("422", "`remind_at` is at or before `due_at`, a rule between two fields")],
    "create_ticket": [("422", "a named account that is not the named contact's (account_mismatch), a rule between two records")],
    "update_ticket": [("422", "a change that leaves the ticket neither a contact nor an account (requester_required), or names an account that is not its contact's (account_mismatch): rules between the body and the stored ticket")],
    "update_sla_policy": [("422", "a day's business hours in order and not overlapping, at least one day open, a time zone the IANA database knows, holidays that are real dates: rules no schema states")],
}


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].split("/")[-1]]
    return node


def reference_fields(spec, node, seen):
    """Names of the uuid fields ending in _id that a request body may carry, at any depth."""
    node = resolve(spec, node)
    if not isinstance(node, dict) or id(node) in seen:
        return set()
    seen.add(id(node))
    found = set()
    for name, prop in node.get("properties", {}).items():
        target = resolve(spec, prop)
        formats = {target.get("format")} | {resolve(spec, o).get("format") for o in target.get("oneOf", [])}
        if name.endswith("_id") and "uuid" in formats:
            found.add(name)
        found |= reference_fields(spec, prop, seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            found |= reference_fields(spec, part, seen)
    if "items" in node:
        found |= reference_fields(spec, node["items"], seen)
    return found


def allowances(spec, operation):
    params = {p.get("name"): p for p in operation.get("parameters", [])}
    extra = []
    if "cursor" in params:
        extra.append(("400", "`cursor` is an opaque token this list issued; a generated one is refused (invalid_cursor)"))
    if "If-Match" in params:
        extra.append(("412", "`If-Match` names a version; a generated one is not the record's current version"))
    if "Idempotency-Key" in params:
        extra.append(("422", "generated `Idempotency-Key` values repeat with other bodies (idempotency_key_reused)"))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    fields = sorted(reference_fields(spec, body, set())) if body else []
    if fields:
        extra.append(("422", f"{', '.join(fields)}: a generated id names no record of the organisation (unknown_reference)"))
    extra += RULES.get(operation.get("operationId"), [])
    return extra


def main():
    spec = json.load(open(sys.argv[1]))
    known = set()
    for path, item in sorted(spec["paths"].items()):
        for method, operation in sorted(item.items()):
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            known.add(operation["operationId"])
            extra = allowances(spec, operation)
            if not extra:
                continue
            statuses = DEFAULT + sorted({status for status, _ in extra} - set(DEFAULT))
            print()
            print(f"# {method.upper()} {path}")
            for status, reason in extra:
                print(f"# {status}: {reason}")
            print("[[operations]]")
            print(f'include-operation-id = "{operation["operationId"]}"')
            print(f"checks.positive_data_acceptance.expected-statuses = {json.dumps(statuses)}")
    unknown = set(RULES) - known
    if unknown:
        sys.exit(f"RULES name operations the spec does not have: {sorted(unknown)}")


main()
