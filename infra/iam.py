"""The IAM check: every AWS call a test saw a function make is one that the
function's policy in the template allows, and which grants no test used.

The end-to-end tests and the `cargo lambda watch` smoke test record the calls
(feature `aws-recording`, shared/src/aws_calls.rs) in the file that
ZEROAUTH_AWS_RECORDING names, one JSON line per function, IAM action and
resource (the resource's ARN after the account):

    {"function": "zeroauth-userinfo", "action": "dynamodb:UpdateItem",
     "resource": "table/zeroauth-test-x", "by": "migration-0f3c"}

A run whose functions read parameters other than the template's defaults
says which, as `sam deploy --parameter-overrides` would, in a line

    {"parameters": {"KeysParameter": "/zeroauth/smoke/keys"}}

Every table a run used stands for the template's one table.

    python infra/iam.py [RECORDING]    prints the verdict; exits 1 on a call not allowed
"""

import fnmatch
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import lint

RECORDING_VAR = "ZEROAUTH_AWS_RECORDING"


class RecordingMissing(Exception):
    """No recording to check, which is never a pass."""


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str
    by: str


@dataclass(frozen=True)
class Grant:
    """One action of one Allow statement of a function's policy."""

    function: str  # the template's logical id
    action: str
    resource: str  # as the template writes it
    pattern: re.Pattern


def default_recording():
    """Where scripts/test has the tests record their calls."""
    if os.environ.get(RECORDING_VAR):
        return Path(os.environ[RECORDING_VAR])
    target = Path(os.environ.get("CARGO_TARGET_DIR", lint.HERE.parent / "target"))
    return target / "aws-calls.jsonl"


def read_recording(path):
    """The calls recorded at `path` and the template parameters the runs used."""
    path = Path(path)
    if not path.is_file():
        raise RecordingMissing(
            f"no AWS call recording at {path}. The end-to-end tests and the cargo lambda watch smoke "
            f"test write it when {RECORDING_VAR} names it; run scripts/test, which runs them and then this check"
        )
    calls, parameters = [], {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise RecordingMissing(f"{path}:{n} is not JSON ({e}): {line!r}") from None
        if "parameters" in entry:
            for name, value in entry["parameters"].items():
                parameters.setdefault(name, set()).add(value)
        else:
            calls.append(Call(entry["function"], entry["action"], entry["resource"], entry.get("by", "")))
    if not calls:
        raise RecordingMissing(f"the AWS call recording {path} holds no calls: did the end-to-end tests run?")
    return calls, parameters


def functions(template):
    """Logical id -> package (the CodeUri's last part) of every function."""
    out = {}
    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            out[name] = res["Properties"]["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
    return out


def grants(template, parameters=None):
    """Every action each function's policy allows, with the resources it
    allows it on as one pattern over recorded resources."""
    values = {name: {p.get("Default", "")} for name, p in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    out = []
    for name in functions(template):
        for policy in template["Resources"][name]["Properties"].get("Policies", []):
            if not isinstance(policy, dict) or "Statement" not in policy:
                raise ValueError(f"{name}: the check reads inline policy statements only, not {policy!r}")
            for st in policy["Statement"]:
                if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st or "Condition" in st:
                    raise ValueError(f"{name}: the check reads plain Allow statements only, not {st!r}")
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                for resource in branches(resources):
                    written, pattern = resource_pattern(template, values, resource)
                    for action in actions:
                        out.append(Grant(name, action, written, pattern))
    return out


def branches(resources):
    """The resources with each `!If` read as both of its branches (either
    may be deployed), less `!Ref AWS::NoValue`."""
    out = []
    for resource in resources:
        if isinstance(resource, dict) and set(resource) == {"Fn::If"}:
            _, yes, no = resource["Fn::If"]
            out += branches([yes, no])
        elif resource != {"Ref": "AWS::NoValue"}:
            out.append(resource)
    return out


ANY = r"[^:]*"  # one field of an ARN: partition, region, account


def resource_pattern(template, values, resource):
    """(the resource as written, a regex over the ARNs it covers)."""
    if resource == "*":
        return "*", re.compile(r".*")
    if isinstance(resource, dict) and set(resource) == {"Fn::GetAtt"}:
        target, attribute = resource["Fn::GetAtt"]
        return f"{target}.{attribute}", re.compile(getatt(template, target, attribute))
    if isinstance(resource, dict) and set(resource) == {"Fn::Sub"}:
        text = resource["Fn::Sub"]
        if not isinstance(text, str):
            raise ValueError(f"!Sub with variables is not understood: {resource!r}")
        regex, last = "", 0
        for m in re.finditer(r"\$\{([^}]+)\}", text):
            regex += glob(text[last : m.start()]) + substitution(template, values, m.group(1))
            last = m.end()
        return text.split(":")[-1], re.compile(regex + glob(text[last:]))
    if isinstance(resource, str):
        return resource, re.compile(glob(resource))
    raise ValueError(f"a policy resource the check does not understand: {resource!r}")


def getatt(template, target, attribute):
    res = template["Resources"].get(target, {})
    if res.get("Type") == "AWS::DynamoDB::Table" and attribute == "Arn":
        # Every table a run made stands for this one.
        return rf"arn:{ANY}:dynamodb:{ANY}:{ANY}:table/[^/]+"
    raise ValueError(f"!GetAtt {target}.{attribute} is not understood by the check")


def substitution(template, values, name):
    if name.startswith("AWS::"):
        return ANY
    if "." in name:
        return getatt(template, *name.split(".", 1))
    if name not in values:
        raise ValueError(f"${{{name}}} names no template parameter")
    return "(?:" + "|".join(re.escape(v) for v in sorted(values[name])) + ")"


def glob(text):
    """IAM's wildcards (`*`, `?`) in literal ARN text."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def arn(call):
    """The ARN IAM checks for a recorded call (`*` stays `*`)."""
    if call.resource == "*":
        return "*"
    service = call.action.split(":", 1)[0]
    return f"arn:aws:{service}:us-east-1:123456789012:{call.resource}"


def allows(grant, call):
    if not fnmatch.fnmatchcase(call.action.lower(), grant.action.lower()):
        return False
    return grant.resource == "*" if call.resource == "*" else bool(grant.pattern.fullmatch(arn(call)))


def check(text, calls, parameters=None):
    """(the calls no policy allows, the grants no call used), as sentences."""
    template = lint.parse(text)
    by_package = {package: name for name, package in functions(template).items()}
    allowed = grants(template, parameters)
    refused, used = {}, set()
    for call in sorted(set(calls), key=lambda c: (c.function, c.action, c.resource)):
        name = by_package.get(call.function)
        if name is None:
            refused.setdefault((call.function, "", ""), []).append(call)
            continue
        matching = [g for g in allowed if g.function == name and allows(g, call)]
        used.update(matching)
        if not matching:
            # The runs' many tables are one table: one sentence for them all.
            refused.setdefault((call.function, call.action, re.sub(r"^table/[^/]+", "table/*", call.resource)), []).append(call)
    denied = []
    for (package, action, _), seen in refused.items():
        first, by = seen[0], sorted({c.by for c in seen})
        if not action:
            denied.append(f"{package} (seen in {', '.join(by)}) is no function of the template: no CodeUri ends in it")
            continue
        also = f" and {len(seen) - 1} more like it" if len(seen) > 1 else ""
        denied.append(
            f"{by_package[package]} ({package}) calls {action} on {first.resource}{also} (seen in "
            f"{', '.join(by)}), which its policy in infra/template.yaml does not allow"
        )
    unused = sorted(
        {f"{g.function}: {g.action} on {g.resource}" for g in allowed}
        - {f"{g.function}: {g.action} on {g.resource}" for g in used}
    )
    return denied, unused


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default_recording()
    try:
        calls, parameters = read_recording(path)
    except RecordingMissing as e:
        print(f"iam: {e}")
        return 1
    denied, unused = check(lint.TEMPLATE.read_text(), calls, parameters)
    for line in unused:
        print(f"iam: granted, and no test exercised it: {line}")
    for line in denied:
        print(f"iam: NOT ALLOWED: {line}")
    print(f"iam: {len(set(calls))} recorded calls, {len(denied)} not allowed, {len(unused)} grants unexercised")
    return 1 if denied else 0


if __name__ == "__main__":
    sys.exit(main())
