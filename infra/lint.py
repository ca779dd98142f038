"""Offline checks of the SAM template.

cfn-lint checks little inside AWS::Serverless::* resources (a wrong runtime or
a reference to a missing resource passes), so the template is also expanded
with the SAM transform (aws-sam-translator, offline) and the resulting plain
CloudFormation is linted too.

    python infra/lint.py [TEMPLATE]     exits non-zero and prints every problem
"""

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# The translator logs its own usage metrics; they are noise here.
logging.getLogger("samtranslator").setLevel(logging.ERROR)

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "template.yaml"
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "zeroauth-lint",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/zeroauth-lint/1",
    "AWS::NotificationARNs": [],
}


class _NoManagedPolicies:
    """The template uses inline policies only, so no AWS lookup is needed."""

    def load(self):
        return {}


def parse(text):
    """The template as a dict, with CloudFormation's short tags understood."""
    return yaml_parse(text)


def sam_transform(template):
    """Expands AWS::Serverless::* resources as CloudFormation would, offline.

    Local CodeUri paths become S3 locations first, as `sam package` does."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties") or {}
        uri = props.get("CodeUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            props["CodeUri"] = f"s3://zeroauth-lint-artifacts/{name}.zip"
    return transform(template, dict(PSEUDO), _NoManagedPolicies())


def cfn_lint(path):
    """cfn-lint's findings for a template file, one line each."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
    )
    if out.returncode not in (0, 2, 4, 6, 8, 10, 12, 14):
        raise RuntimeError(f"cfn-lint failed to run: {out.stderr}")
    return [line for line in out.stdout.splitlines() if line.strip()]


def lint_text(text):
    """Every problem: cfn-lint on the template, then on its SAM expansion."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "template.yaml"
        raw.write_text(text)
        problems += [f"template: {p}" for p in cfn_lint(raw)]
        try:
            expanded = sam_transform(parse(text))
        except Exception as e:  # the translator's own validation errors
            return problems + [f"SAM transform: {e}"]
        out = Path(tmp) / "expanded.json"
        out.write_text(json.dumps(expanded, indent=1))
        problems += [f"after SAM transform: {p}" for p in cfn_lint(out)]
    return problems


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE
    problems = lint_text(path.read_text())
    for p in problems:
        print(p)
    print(f"infra lint: {path}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
