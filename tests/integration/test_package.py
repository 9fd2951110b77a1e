"""The manual, `cmake --install` and the Debian package (SPEC §9): the man page names
every subcommand and flag; the install tree puts each file where Debian's tools look;
the .deb built by CPack passes lintian without errors, installs with dpkg, and the
installed binary, man page, completions (bash, fish) and systemd unit work."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from wspush_harness import DEADLINE, long_flags, read_line, run_wspush, subcommands
from wspush_harness import wspush_binary

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTALLED = ["usr/bin/wspush", "usr/share/man/man1/wspush.1.gz",
             "usr/share/bash-completion/completions/wspush",
             "usr/share/zsh/vendor-completions/_wspush",
             "usr/share/fish/vendor_completions.d/wspush.fish",
             "usr/lib/systemd/system/wspush.service", "etc/wspush/wspush.json",
             "usr/share/doc/wspush/copyright", "usr/share/doc/wspush/changelog.gz"]


def build_dir():
    return os.path.dirname(os.path.dirname(wspush_binary()))


def sanitized():
    with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
        return re.search(r"^WSPUSH_SANITIZE:STRING=(.+)$", f.read(), re.M) is not None


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def test_the_man_page_documents_every_subcommand_and_flag():
    text = open(os.path.join(TREE, "man", "wspush.1")).read().replace("\\-", "-")
    for sub in subcommands():
        if sub == "help":
            continue
        assert re.search(r"^\.SH %s OPTIONS$" % sub.upper(), text, re.M), sub
        for flag in long_flags(sub):
            assert flag in text, "man page lacks %s %s" % (sub, flag)
    for section in ("EXIT STATUS", "FILES", "EXAMPLES", "ROOMS AND PROTOCOL", "SIGNALS"):
        assert ".SH " + section in text
    r = run("man", "--warnings", "-l", os.path.join(TREE, "man", "wspush.1"),
            env={**os.environ, "MANWIDTH": "80"})
    assert r.returncode == 0 and "wspush serve" in r.stdout
    assert r.stderr.strip() == "", r.stderr


def test_cmake_install_puts_each_file_in_its_place(tmp_path):
    r = run("cmake", "--install", build_dir(), "--prefix", "/usr",
            env={**os.environ, "DESTDIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    for path in INSTALLED:
        assert (tmp_path / path).is_file(), path
    r = run(str(tmp_path / "usr/bin/wspush"), "--version")
    assert r.returncode == 0 and r.stdout == run_wspush("--version").stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="dpkg -i needs root")
def test_the_debian_package_installs_and_works(tmp_path):
    if sanitized():
        pytest.skip("packaged from the plain build only")
    for tool in ("cpack", "dpkg-deb", "lintian", "systemd-analyze", "fish",
                 "/usr/share/bash-completion/bash_completion"):
        assert shutil.which(tool) or os.path.exists(tool), tool + " is missing (scripts/setup)"
    if run("dpkg-query", "-W", "wspush").returncode == 0:
        pytest.skip("a wspush package is installed already; not touching it")
    r = run("cpack", "-G", "DEB", "--config", os.path.join(build_dir(), "CPackConfig.cmake"),
            "-B", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    deb = next(str(p) for p in tmp_path.glob("wspush_*.deb"))
    info = run("dpkg-deb", "--info", deb).stdout
    depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
    for lib in ("libc6", "libssl3", "libjwt0", "libhttp-parser"):
        assert lib in depends, depends
    assert run("dpkg-deb", "--ctrl-tarfile", deb).returncode == 0
    assert "/etc/wspush/wspush.json" in run("sh", "-c", "dpkg-deb -I %s conffiles" % deb).stdout
    lint = run("lintian", "--tag-display-limit", "0", deb)
    errors = [line for line in lint.stdout.splitlines() if line.startswith("E:")]
    assert not errors, lint.stdout
    try:
        r = run("dpkg", "-i", deb)
        assert r.returncode == 0, r.stdout + r.stderr
        assert run("/usr/bin/wspush", "--version").stdout == run_wspush("--version").stdout
        assert run("man", "-w", "wspush").stdout.strip() == "/usr/share/man/man1/wspush.1.gz"
        r = run("systemd-analyze", "verify", "/usr/lib/systemd/system/wspush.service")
        assert r.returncode == 0, r.stderr
        # The unit's configuration starts a server (its data dir, which systemd's
        # StateDirectory makes, here in a directory of the test's).
        server = subprocess.Popen(["/usr/bin/wspush", "serve", "--config",
                                   "/etc/wspush/wspush.json", "--port", "0",
                                   "--data-dir", str(tmp_path / "state")],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            assert b'"event":"listening"' in read_line(server.stdout, DEADLINE)
        finally:
            server.terminate()
            assert server.wait(timeout=DEADLINE) == 0
        assert (tmp_path / "state" / "data.mdb").is_file()
        # Completions, as the shells load them from the package.
        complete = ("COMP_LINE='%s'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(%s); "
                    "COMP_CWORD=%d; _wspush; echo ${COMPREPLY[@]}; ")
        r = run("bash", "-c", "source /usr/share/bash-completion/bash_completion; "
                "source /usr/share/bash-completion/completions/wspush; complete -p wspush; "
                + complete % ("wspush cl", "wspush cl", 1)
                + complete % ("wspush client --co", "wspush client --co", 2))
        lines = r.stdout.splitlines()
        assert lines[0] == "complete -F _wspush wspush", r.stdout + r.stderr
        assert lines[1] == "client" and "--count" in lines[2].split(), r.stdout
        r = run("fish", "-c", "complete -C 'wspush cl'; complete -C 'wspush client --co'")
        assert "client" in r.stdout and "--count" in r.stdout, r.stdout + r.stderr
        r = run("fish", "-c", "complete -C 'wspush serve --log-format '")
        assert {"auto", "text", "json"} <= {line.split()[0] for line in r.stdout.splitlines()}
    finally:
        run("dpkg", "--purge", "wspush")
    assert not os.path.exists("/usr/bin/wspush") and not os.path.exists("/etc/wspush")
