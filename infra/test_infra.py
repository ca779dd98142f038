"""Tests of the deployment template: it lints clean, the linting catches
mistakes inside serverless resources, the table it declares matches the
one `zeroauth table create` makes, and each function's policy allows every
AWS call the tests saw it make (iam.py).

Run by scripts/infra-lint (from scripts/test) with the venv's Python."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

import iam
import lint

TEXT = lint.TEMPLATE.read_text()
ROOT = lint.HERE.parent


def mutated(old, new):
    """The template with one exact piece replaced."""
    if old not in TEXT:
        raise AssertionError(f"the template no longer contains {old!r}")
    return TEXT.replace(old, new, 1)


class TemplateLint(unittest.TestCase):
    def test_template_lints_clean_before_and_after_the_sam_transform(self):
        self.assertEqual(lint.lint_text(TEXT), [])

    def test_wrong_runtime_in_a_function_is_caught(self):
        bad = mutated(
            "      CodeUri: ../target/lambda/zeroauth-token/\n",
            "      CodeUri: ../target/lambda/zeroauth-token/\n      Runtime: provided.al2099\n",
        )
        problems = lint.lint_text(bad)
        self.assertTrue(any("provided.al2099" in p for p in problems), problems)

    def test_reference_to_a_missing_resource_in_a_function_policy_is_caught(self):
        bad = mutated(
            "              Action: [dynamodb:GetItem, dynamodb:UpdateItem]\n              Resource: !GetAtt Table.Arn\n",
            "              Action: [dynamodb:GetItem, dynamodb:UpdateItem]\n              Resource: !GetAtt MissingTable.Arn\n",
        )
        problems = lint.lint_text(bad)
        self.assertTrue(any("MissingTable" in p for p in problems), problems)

    def test_impossible_memory_size_is_caught(self):
        bad = mutated("      MemorySize: 1024\n", "      MemorySize: 99999\n")
        problems = lint.lint_text(bad)
        self.assertTrue(any("99999" in p for p in problems), problems)

    def test_every_function_is_arm64_on_provided_al2023_with_its_own_code(self):
        expanded = lint.sam_transform(lint.parse(TEXT))
        functions = {k: v for k, v in expanded["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
        self.assertEqual(len(functions), 4)
        for name, f in functions.items():
            props = f["Properties"]
            self.assertEqual(props["Runtime"], "provided.al2023", name)
            self.assertEqual(props["Architectures"], ["arm64"], name)
            self.assertEqual(props["Handler"], "bootstrap", name)

    def test_no_function_is_given_the_signing_key_itself(self):
        self.assertNotIn("ZEROAUTH_SIGNING_KEY:", TEXT)
        for line in TEXT.splitlines():
            self.assertNotRegex(line, r"resolve:(ssm-secure|secretsmanager)")


    def test_only_the_token_function_reads_the_private_key_set(self):
        functions = {
            name: res
            for name, res in lint.parse(TEXT)["Resources"].items()
            if res["Type"] == "AWS::Serverless::Function"
        }
        readers = {name for name, res in functions.items() if "KeysParameter}" in str(res["Properties"]["Policies"])}
        self.assertEqual(readers, {"TokenFunction"})
        for name, res in functions.items():
            env = res["Properties"].get("Environment", {}).get("Variables", {})
            self.assertEqual("ZEROAUTH_KEYS_PARAMETER" in env, name == "TokenFunction", name)

    def test_only_the_callback_function_sends_mail(self):
        functions = {
            name: res
            for name, res in lint.parse(TEXT)["Resources"].items()
            if res["Type"] == "AWS::Serverless::Function"
        }
        for name, res in functions.items():
            mails = name == "CallbackFunction"
            self.assertEqual("ses:" in str(res["Properties"]["Policies"]), mails, name)
            env = res["Properties"].get("Environment", {}).get("Variables", {})
            self.assertEqual("ZEROAUTH_MAIL" in env, mails, name)

    def test_only_the_callback_function_reads_the_providers_secrets(self):
        # It alone calls upstream providers (the code exchange needs the
        # client secret); the others only list the providers in the table.
        functions = {
            name: res
            for name, res in lint.parse(TEXT)["Resources"].items()
            if res["Type"] == "AWS::Serverless::Function"
        }
        for name, res in functions.items():
            reads = name == "CallbackFunction"
            self.assertEqual("ProviderSecretPrefix}" in str(res["Properties"]["Policies"]), reads, name)
            env = res["Properties"].get("Environment", {}).get("Variables", {})
            self.assertEqual(env.get("ZEROAUTH_PROVIDER_SECRET_PREFIX"), {"Ref": "ProviderSecretPrefix"} if reads else None, name)

    def test_the_provider_secret_prefix_is_a_path_of_its_own(self):
        # The callback may read everything under it: by default it holds none
        # of the keys, and it cannot be the root or lack its closing slash.
        import re

        parameters = lint.parse(TEXT)["Parameters"]
        prefix = parameters["ProviderSecretPrefix"]
        pattern = prefix["AllowedPattern"]
        for other in ("SigningKeyParameter", "KeysParameter", "JwksParameter"):
            self.assertFalse(parameters[other]["Default"].startswith(prefix["Default"]), other)
        self.assertRegex(prefix["Default"], pattern)
        for bad in ("/", "/zeroauth/prod/providers", "zeroauth/providers/", "/zeroauth/prod providers/"):
            self.assertIsNone(re.fullmatch(pattern, bad), bad)

    def test_the_federation_redirect_uri_output_is_the_callback_functions_route(self):
        # What operators register at every provider must be a route the
        # callback function serves, with or without the custom domain.
        output = lint.parse(TEXT)["Outputs"]["FederationRedirectUri"]["Value"]["Fn::If"]
        self.assertEqual(output[0], "HasDomain")
        for branch in output[1:]:
            self.assertTrue(branch["Fn::Sub"].endswith("/federation/callback"), branch)
        self.assertEqual(template_routes(TEXT)[("GET", "/federation/callback")], "zeroauth-callback")
        self.assertEqual(template_routes(TEXT)[("POST", "/federation/link")], "zeroauth-callback")

    def test_every_canonical_route_goes_to_the_function_that_owns_it(self):
        # The watch router in Cargo.toml is checked against shared::router by
        # shared/tests/watch_router.rs; the API routes must say the same.
        import tomllib

        watch = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["metadata"]["lambda"]["watch"]["router"]
        routed = {}
        for (_, path), package in template_routes(TEXT).items():
            if path in watch:
                routed.setdefault(path, set()).add(package)
        self.assertEqual({path: {package} for path, package in watch.items()}, routed)

    def test_the_functions_that_resolve_clients_may_list_the_resources(self):
        # A client metadata document or a registration is given the scopes of
        # every resource (a Query): the functions that can meet a new client
        # need it; userinfo, which only reads items, must not have it.
        allowed = {}
        for name, res in lint.parse(TEXT)["Resources"].items():
            if res["Type"] == "AWS::Serverless::Function":
                allowed[name] = "dynamodb:Query" in str(res["Properties"]["Policies"])
        self.assertEqual(
            allowed,
            {"AuthorizeFunction": True, "CallbackFunction": True, "TokenFunction": True, "UserinfoFunction": False},
        )

    def test_cors_preflights_reach_the_back_channel_and_never_the_sign_in_pages(self):
        # The functions answer OPTIONS themselves (shared::router), the same
        # under `serve`; the HTTP API has no CorsConfiguration of its own,
        # which would answer for /authorize and /callback too.
        preflighted = set()
        for res in lint.parse(TEXT)["Resources"].values():
            self.assertNotIn("CorsConfiguration", str(res.get("Properties", {})))
            for event in res.get("Properties", {}).get("Events", {}).values():
                if event["Properties"]["Method"] == "OPTIONS":
                    preflighted.add(event["Properties"]["Path"])
        self.assertEqual(
            preflighted,
            {
                "/token",
                "/revoke",
                "/introspect",
                "/register",
                "/userinfo",
                "/jwks",
                "/.well-known/oauth-authorization-server",
                "/.well-known/openid-configuration",
            },
        )


def zeroauth_binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = os.environ.get("ZEROAUTH_BIN", str(target / "debug" / "zeroauth"))
    if not Path(binary).exists():
        raise AssertionError(f"{binary} does not exist: build it with `cargo build -p zeroauth`")
    return binary


def template_routes(text):
    """(method, path) -> function package, for every API route of a template."""
    routes = {}
    for res in lint.parse(text)["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        package = res["Properties"]["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
        for event in res["Properties"].get("Events", {}).values():
            key = (event["Properties"]["Method"], event["Properties"]["Path"])
            if key in routes:
                raise AssertionError(f"{key} is routed twice")
            routes[key] = package
    return routes


def zeroauth_routes(alias_file=None, alias_env=None):
    """What `zeroauth routes` says a deployment must route, and its aliases' text."""
    env = {k: v for k, v in os.environ.items() if k != "ZEROAUTH_ROUTE_ALIASES"}
    args = [zeroauth_binary(), "routes", "--json"]
    if alias_file is not None:
        args += ["--aliases", str(alias_file)]
    if alias_env is not None:
        env["ZEROAUTH_ROUTE_ALIASES"] = alias_env
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout
    listed = json.loads(out)
    routes = {}
    for r in listed["routes"]:
        routes[(r["method"], r["path"])] = r["function"]
    return routes, listed["route_aliases"]


def drift(text, alias_file):
    """Why a template disagrees with an alias file, or None."""
    want, aliases = zeroauth_routes(alias_file)
    have = template_routes(text)
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    wrong = sorted(k for k in set(want) & set(have) if want[k] != have[k])
    env = lint.parse(text)["Globals"]["Function"]["Environment"]["Variables"]["ZEROAUTH_ROUTE_ALIASES"]
    _, in_env = zeroauth_routes(alias_env=env)
    problems = []
    if missing or extra or wrong:
        problems.append(f"routes missing {missing}, extra {extra}, to the wrong function {wrong}")
    if in_env != aliases:
        problems.append(f"ZEROAUTH_ROUTE_ALIASES is {in_env!r}, the alias file says {aliases!r}")
    return "; ".join(problems) or None


ALIAS = "POST /oauth2/token token\n"


class RouteAliasDrift(unittest.TestCase):
    def test_the_api_routes_and_the_functions_aliases_are_the_alias_file(self):
        self.assertIsNone(drift(TEXT, ROOT / "infra" / "route-aliases"))

    def test_an_alias_the_template_does_not_route_is_caught(self):
        with tempfile.NamedTemporaryFile("w", suffix=".aliases") as f:
            f.write(ALIAS)
            f.flush()
            problem = drift(TEXT, f.name)
        self.assertIn("('POST', '/oauth2/token')", problem)
        self.assertIn("ZEROAUTH_ROUTE_ALIASES", problem)

    def test_an_alias_routed_and_configured_in_the_template_agrees(self):
        routed = mutated(
            "        TokenPreflight:\n",
            "        AliasOauth2Token:\n          Type: HttpApi\n          Properties:\n"
            "            ApiId: !Ref HttpApi\n            Path: /oauth2/token\n            Method: POST\n"
            "        AliasOauth2TokenPreflight:\n          Type: HttpApi\n          Properties:\n"
            "            ApiId: !Ref HttpApi\n            Path: /oauth2/token\n            Method: OPTIONS\n"
            "        TokenPreflight:\n",
        ).replace('ZEROAUTH_ROUTE_ALIASES: ""', 'ZEROAUTH_ROUTE_ALIASES: "POST /oauth2/token token"', 1)
        with tempfile.NamedTemporaryFile("w", suffix=".aliases") as f:
            f.write(ALIAS)
            f.flush()
            self.assertIsNone(drift(routed, f.name))
            wrong = routed.replace("            Path: /oauth2/token\n            Method: POST\n", "            Path: /oauth2/token\n            Method: GET\n", 1)
            self.assertIsNotNone(drift(wrong, f.name))


class TableDrift(unittest.TestCase):
    def test_table_create_makes_the_table_the_template_declares(self):
        endpoint = os.environ.get("ZEROAUTH_TEST_DYNAMODB")
        if not endpoint:
            self.fail("ZEROAUTH_TEST_DYNAMODB is not set: run this through scripts/test, which starts DynamoDB Local")
        binary = zeroauth_binary()
        table = f"zeroauth-drift-{uuid.uuid4().hex[:10]}"
        env = dict(
            os.environ,
            ZEROAUTH_TABLE=table,
            AWS_ENDPOINT_URL_DYNAMODB=endpoint,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
        )
        subprocess.run([binary, "table", "create", "--json"], env=env, check=True, capture_output=True)

        import boto3

        ddb = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        made = ddb.describe_table(TableName=table)["Table"]
        ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        declared = lint.parse(TEXT)["Resources"]["Table"]["Properties"]

        def keys(schema):
            return sorted((k["AttributeName"], k["KeyType"]) for k in schema)

        def attrs(defs):
            return sorted((a["AttributeName"], a["AttributeType"]) for a in defs)

        self.assertEqual(keys(made["KeySchema"]), keys(declared["KeySchema"]))
        self.assertEqual(attrs(made["AttributeDefinitions"]), attrs(declared["AttributeDefinitions"]))
        self.assertEqual(made["BillingModeSummary"]["BillingMode"], declared["BillingMode"])
        self.assertEqual(ttl["AttributeName"], declared["TimeToLiveSpecification"]["AttributeName"])
        self.assertIn(ttl["TimeToLiveStatus"], ("ENABLED", "ENABLING"))
        self.assertTrue(declared["TimeToLiveSpecification"]["Enabled"])


def recorded(*lines):
    """Calls as the recorder writes them: (package, action, resource)."""
    return [iam.Call(f, a, r, "test") for f, a, r in lines]


class IamPolicies(unittest.TestCase):
    def test_every_aws_call_the_tests_recorded_is_allowed_by_the_functions_policy(self):
        # scripts/test runs the end-to-end tests and the cargo lambda watch
        # smoke test first, recording every call each function made.
        try:
            calls, parameters = iam.read_recording(iam.default_recording())
        except iam.RecordingMissing as e:
            raise self.failureException(str(e)) from None
        denied, unused = iam.check(TEXT, calls, parameters)
        for line in unused:
            print(f"\niam: granted, and no test exercised it: {line}", file=sys.stderr)
        print(f"\niam: {len(set(calls))} recorded calls checked against infra/template.yaml", file=sys.stderr)
        if denied:
            self.fail("\n".join(["calls infra/template.yaml does not allow:"] + denied))

    def test_a_write_the_policy_does_not_allow_is_caught(self):
        calls = recorded(("zeroauth-userinfo", "dynamodb:UpdateItem", "table/zeroauth-test-1"))
        strict = mutated(
            "              Action: [dynamodb:GetItem, dynamodb:UpdateItem]\n"
            "              Resource: !GetAtt Table.Arn\n"
            "            - Effect: Allow\n"
            "              Action: ssm:GetParameter\n"
            "              Resource: !Sub \"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwksParameter}\"\n"
            "      Events:\n"
            "        UserinfoGet:",
            "              Action: dynamodb:GetItem\n"
            "              Resource: !GetAtt Table.Arn\n"
            "            - Effect: Allow\n"
            "              Action: ssm:GetParameter\n"
            "              Resource: !Sub \"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwksParameter}\"\n"
            "      Events:\n"
            "        UserinfoGet:",
        )
        self.assertEqual(iam.check(TEXT, calls)[0], [])
        (denied,) = iam.check(strict, calls)[0]
        self.assertIn("UserinfoFunction (zeroauth-userinfo) calls dynamodb:UpdateItem on table/zeroauth-test-1", denied)

    def test_a_parameter_read_by_a_function_not_granted_it_is_caught(self):
        # The token function may read the private key set, not the session key.
        overrides = {"KeysParameter": {"/t/keys"}, "SigningKeyParameter": {"/t/signing-key"}}
        ok = recorded(("zeroauth-token", "ssm:GetParameter", "parameter/t/keys"))
        bad = recorded(("zeroauth-token", "ssm:GetParameter", "parameter/t/signing-key"))
        self.assertEqual(iam.check(TEXT, ok, overrides)[0], [])
        self.assertEqual(len(iam.check(TEXT, bad, overrides)[0]), 1)
        self.assertEqual(len(iam.check(TEXT, ok)[0]), 1, "the default parameter names are other names")

    def test_a_provider_secret_is_readable_by_the_callback_under_the_prefix_only(self):
        overrides = {"ProviderSecretPrefix": {"/t/providers/"}, "KeysParameter": {"/t/keys"}}
        ok = recorded(("zeroauth-callback", "ssm:GetParameter", "parameter/t/providers/github"))
        self.assertEqual(iam.check(TEXT, ok, overrides)[0], [])
        bad = recorded(
            # Outside the prefix: another path, the private key set.
            ("zeroauth-callback", "ssm:GetParameter", "parameter/t/other/github"),
            ("zeroauth-callback", "ssm:GetParameter", "parameter/t/keys"),
            # Writing is the operator's (`zeroauth provider create`), never a function's.
            ("zeroauth-callback", "ssm:PutParameter", "parameter/t/providers/github"),
            # The other functions never read a provider's secret.
            ("zeroauth-authorize", "ssm:GetParameter", "parameter/t/providers/github"),
            ("zeroauth-token", "ssm:GetParameter", "parameter/t/providers/github"),
            ("zeroauth-userinfo", "ssm:GetParameter", "parameter/t/providers/github"),
        )
        self.assertEqual(len(iam.check(TEXT, bad, overrides)[0]), 6)
        self.assertEqual(len(iam.check(TEXT, ok)[0]), 1, "the default prefix is another path")
        unused = iam.check(TEXT, ok, overrides)[1]
        self.assertNotIn("CallbackFunction: ssm:GetParameter on parameter${ProviderSecretPrefix}*", unused)

    def test_mail_is_allowed_as_the_ses_identity_and_configuration_set_only(self):
        overrides = {"SesIdentity": {"acme.example"}, "SesConfigurationSet": {"zeroauth-test"}}
        ok = recorded(
            ("zeroauth-callback", "ses:SendEmail", "identity/acme.example"),
            ("zeroauth-callback", "ses:SendEmail", "configuration-set/zeroauth-test"),
        )
        self.assertEqual(iam.check(TEXT, ok, overrides)[0], [])
        other = recorded(
            ("zeroauth-callback", "ses:SendEmail", "identity/other.example"),
            ("zeroauth-callback", "ses:SendEmail", "configuration-set/other"),
            ("zeroauth-token", "ses:SendEmail", "identity/acme.example"),
        )
        self.assertEqual(len(iam.check(TEXT, other, overrides)[0]), 3)

    def test_an_index_or_an_unknown_function_is_not_the_table_or_a_function(self):
        calls = recorded(
            ("zeroauth-token", "dynamodb:Query", "table/t/index/by-email"),
            ("zeroauth-nobody", "dynamodb:GetItem", "table/t"),
            ("zeroauth-token", "dynamodb:ListTables", "*"),
        )
        self.assertEqual(len(iam.check(TEXT, calls)[0]), 3)

    def test_grants_no_recorded_call_used_are_reported(self):
        calls = recorded(("zeroauth-userinfo", "dynamodb:GetItem", "table/t"))
        unused = iam.check(TEXT, calls)[1]
        self.assertIn("UserinfoFunction: dynamodb:UpdateItem on Table.Arn", unused)
        self.assertNotIn("UserinfoFunction: dynamodb:GetItem on Table.Arn", unused)

    def test_a_missing_or_empty_recording_fails_with_a_sentence(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(iam.RecordingMissing, "run scripts/test"):
                iam.read_recording(Path(tmp) / "aws-calls.jsonl")
            empty = Path(tmp) / "empty.jsonl"
            empty.write_text('{"parameters": {"KeysParameter": "/k"}}\n')
            with self.assertRaisesRegex(iam.RecordingMissing, "holds no calls"):
                iam.read_recording(empty)


if __name__ == "__main__":
    unittest.main()
