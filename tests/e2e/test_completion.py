"""bash and zsh completion of netlab (dist/completion/netlab.bash and _netlab, issue 22), tested
by running each completion function on sample command lines, as the shell does on a tab.

`CommandTable` needs no privileges (verbs, options, files); `RunningLab` brings up
examples/lan.json as root, inside tests/run_isolated.sh's private namespaces, and completes its
name, its nodes and their NODE:IF endpoints.
"""
import os
import shutil
import subprocess
import sys
import unittest

from test_labs import unique_lab

NETLAB = os.environ["NETLAB"]
EXAMPLES = os.environ["NETLAB_EXAMPLES"]
SCRIPT = os.environ["NETLAB_BASH_COMPLETION"]
ZSH_SCRIPT = os.path.join(os.path.dirname(SCRIPT), "_netlab")


def complete(line, cwd=None):
    """What bash offers for `line` with the cursor at its end (COMPREPLY, sorted)."""
    env = dict(os.environ, PATH=os.path.dirname(NETLAB) + ":" + os.environ.get("PATH", ""))
    program = ('source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; '
               'COMP_WORDS=($2); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); '
               '_netlab; printf "%s\\n" "${COMPREPLY[@]}"')
    result = subprocess.run(["bash", "-c", program, "complete", SCRIPT, line], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=30, check=True)
    return sorted(word for word in result.stdout.splitlines() if word)


def complete_zsh(line, cwd=None):
    """What zsh offers for `line` with the cursor at its end: _netlab run with `words` and
    `CURRENT` as zsh's completion system sets them, `compadd` keeping the candidates that
    start with the current word (as it does), `_files` standing for zsh's file completion."""
    if not shutil.which("zsh"):
        raise unittest.SkipTest("zsh is not installed (tools/install-deps.sh installs it)")
    env = dict(os.environ, PATH=os.path.dirname(NETLAB) + ":" + os.environ.get("PATH", ""))
    program = ('script=$1; shift; words=("$@"); CURRENT=$#; '
               'compadd() { [[ $1 == -Q && $2 == -- ]] || return 1; shift 2; local c; '
               'for c in "$@"; do [[ $c == "${words[CURRENT]}"* ]] && print -r -- "$c"; done; return 0; }; '
               '_files() { print -r -- ":files"; }; '
               'source "$script"')
    result = subprocess.run(["zsh", "-f", "-c", program, "complete", ZSH_SCRIPT,
                             *line.split(" ")], env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=30, check=True)
    return sorted(word for word in result.stdout.splitlines() if word)


class CommandTable(unittest.TestCase):
    def test_verbs(self):
        verbs = complete("netlab ")
        for verb in ["validate", "up", "exec", "link", "capture", "down", "doctor"]:
            self.assertIn(verb, verbs)
        self.assertFalse([verb for verb in verbs if verb.startswith("__")], verbs)
        self.assertEqual(complete("netlab do"), ["doctor", "down"])

    def test_options(self):
        self.assertEqual(complete("netlab up --p"), ["--pids-limit"])
        self.assertIn("--format", complete("netlab doctor --"))
        self.assertEqual(complete("netlab link "), ["down", "reset", "set", "show", "up"])
        self.assertIn("--delay", complete("netlab link set r1:eth0 --"))

    def test_topology_files(self):
        self.assertEqual(complete("netlab up la", cwd=EXAMPLES), ["lan.json"])
        self.assertEqual(complete("netlab validate tri", cwd=EXAMPLES),
                         ["triangle-auto.json", "triangle.json"])


class ZshCommandTable(unittest.TestCase):
    def test_verbs_options_and_files(self):
        self.assertEqual(complete_zsh("netlab do"), ["doctor", "down"])
        self.assertEqual(complete_zsh("netlab up --p"), ["--pids-limit"])
        self.assertEqual(complete_zsh("netlab up la", cwd=EXAMPLES), [":files"])


class LanLab(unittest.TestCase):
    """examples/lan.json up for the class's tests, under a name of this run's own (the labs'
    cgroups are the machine's, seen by other tests)."""

    LAB = unique_lab("complete")

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("a running lab needs root")
        subprocess.run([NETLAB, "up", "-q", os.path.join(EXAMPLES, "lan.json"), "--lab", cls.LAB],
                       check=True, capture_output=True, timeout=120)

    @classmethod
    def tearDownClass(cls):
        subprocess.run([NETLAB, "down", cls.LAB], check=True, capture_output=True, timeout=120)


class RunningLab(LanLab):
    def test_lab_names(self):
        self.assertEqual(complete("netlab status "), [self.LAB])
        self.assertEqual(complete("netlab exec --lab comp"), [self.LAB])

    def test_node_names(self):
        self.assertEqual(complete("netlab exec h"), ["h1", "h2", "h3", "h4"])
        self.assertEqual(complete(f"netlab exec --lab {self.LAB} r"), ["r1", "r2"])

    def test_endpoints(self):
        # bash replaces what follows the colon, so that is what it is offered.
        self.assertEqual(complete("netlab link set h1:"), ["eth0"])
        offered = complete("netlab link down r1:e")
        self.assertTrue(offered and all(word.startswith("eth") for word in offered), offered)
        self.assertIn("h2:eth0", complete("netlab capture h"))


class ZshRunningLab(LanLab):
    LAB = unique_lab("zcomplete")

    @classmethod
    def setUpClass(cls):
        if not shutil.which("zsh"):
            raise unittest.SkipTest("zsh is not installed (tools/install-deps.sh installs it)")
        super().setUpClass()

    def test_lab_node_and_endpoint_names(self):
        self.assertEqual(complete_zsh("netlab status "), [self.LAB])
        self.assertEqual(complete_zsh("netlab exec h"), ["h1", "h2", "h3", "h4"])
        # zsh does not split words at the colon: it is offered the whole NODE:IF.
        self.assertEqual(complete_zsh("netlab link set h1:"), ["h1:eth0"])


if __name__ == "__main__":
    sys.exit(unittest.main())
