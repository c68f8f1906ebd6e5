#!/usr/bin/env python3
"""Render the Jinja golden cases with real Python Jinja2 (a developer tool;
the product and its tests never run Python).

Each case in tests/jinja/cases/ is NAME.tmpl, an optional NAME.json context,
and either NAME.out (expected output, byte exact) or NAME.err (the C
interpreter's error message: Jinja2 must fail on the case too).

The environment is the one dbt builds (dbt/clients/jinja.py): a
SandboxedEnvironment with jinja2.ext.do, jinja2.ext.loopcontrols and dbt's
docs/test/materialization block extensions, default whitespace options, and
StrictUndefined (cases named lenient_* use Jinja's default Undefined, as
dbt's runtime does); `return` is dbt's macro return. Cases named modules_*
get dbt's `modules` (datetime, pytz, itertools, re); pytz may come from
Debian's python3-tz when this Python lacks it.

  scripts/jinja-golden.py           check every case
  scripts/jinja-golden.py --write   (re)write the .out files
  scripts/jinja-golden.py NAME...   only these cases
"""
import datetime
import itertools
import json
import os
import re
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.runtime
import jinja2.sandbox

try:
    import pytz
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    import pytz

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "jinja", "cases")


class MacroReturn(Exception):
    def __init__(self, value):
        self.value = value


def dbt_return(value=None):
    raise MacroReturn(value)


_invoke = jinja2.runtime.Macro._invoke


def _invoke_catching_return(self, arguments, autoescape):
    try:
        return _invoke(self, arguments, autoescape)
    except MacroReturn as e:
        return e.value


jinja2.runtime.Macro._invoke = _invoke_catching_return


class DocumentationExtension(jinja2.ext.Extension):
    tags = {"docs"}

    def parse(self, parser):
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        docs_name = parser.parse_assign_target(name_only=True).name
        node.args = []
        node.defaults = []
        node.name = "dbt_docs__" + docs_name
        node.body = parser.parse_statements(("name:enddocs",), drop_needle=True)
        return node


class TestExtension(jinja2.ext.Extension):
    tags = {"test"}

    def parse(self, parser):
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        test_name = parser.parse_assign_target(name_only=True).name
        parser.parse_signature(node)
        node.name = "test_" + test_name
        node.body = parser.parse_statements(("name:endtest",), drop_needle=True)
        return node


class MaterializationExtension(jinja2.ext.Extension):
    tags = {"materialization"}

    def parse(self, parser):
        node = jinja2.nodes.Macro(lineno=next(parser.stream).lineno)
        name = parser.parse_assign_target(name_only=True).name
        adapter = "default"
        node.args = []
        node.defaults = []
        while parser.stream.skip_if("comma"):
            target = parser.parse_assign_target(name_only=True)
            if target.name == "default":
                pass
            elif target.name in ("adapter", "supported_languages"):
                parser.stream.expect("assign")
                value = parser.parse_expression()
                if target.name == "adapter":
                    adapter = value.value
            else:
                parser.fail("invalid materialization argument " + target.name)
        node.name = "materialization_%s_%s" % (name, adapter)
        node.body = parser.parse_statements(("name:endmaterialization",), drop_needle=True)
        return node


def environment(undefined=jinja2.StrictUndefined):
    env = jinja2.sandbox.SandboxedEnvironment(
        extensions=[
            "jinja2.ext.do",
            "jinja2.ext.loopcontrols",
            DocumentationExtension,
            TestExtension,
            MaterializationExtension,
        ],
        undefined=undefined,
    )
    env.globals["return"] = dbt_return
    return env


MODULES = {"datetime": datetime, "pytz": pytz, "itertools": itertools, "re": re}


def render(env, name):
    with open(os.path.join(CASES, name + ".tmpl"), encoding="utf-8", newline="") as f:
        src = f.read()
    ctx = {}
    jpath = os.path.join(CASES, name + ".json")
    if os.path.exists(jpath):
        with open(jpath, encoding="utf-8") as f:
            ctx = json.load(f)
    if name.startswith("modules_"):
        ctx["modules"] = MODULES
    return env.from_string(src).render(**ctx)


def main(argv):
    write = "--write" in argv
    names = [a for a in argv if not a.startswith("--")]
    if not names:
        names = sorted(f[:-5] for f in os.listdir(CASES) if f.endswith(".tmpl"))
    env = environment()
    # lenient_* cases: Jinja's default Undefined, which dbt renders with
    lenient = environment(jinja2.Undefined)
    bad = 0
    for name in names:
        out_path = os.path.join(CASES, name + ".out")
        err_path = os.path.join(CASES, name + ".err")
        try:
            out = render(lenient if name.startswith("lenient_") else env, name)
        except Exception as e:  # noqa: BLE001 - any Jinja failure counts
            if os.path.exists(err_path):
                continue
            print("%s: Jinja2 fails (%s: %s) but there is no .err" % (name, type(e).__name__, e))
            bad += 1
            continue
        if os.path.exists(err_path):
            print("%s: has .err but Jinja2 renders %r" % (name, out))
            bad += 1
            continue
        if write:
            with open(out_path, "w", encoding="utf-8", newline="") as f:
                f.write(out)
            continue
        try:
            with open(out_path, encoding="utf-8", newline="") as f:
                want = f.read()
        except FileNotFoundError:
            print("%s: no .out (run with --write)" % name)
            bad += 1
            continue
        if want != out:
            print("%s: .out differs from Jinja2: %r != %r" % (name, want, out))
            bad += 1
    print("%d cases, %d problems" % (len(names), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
