"""Settings declared once (issue #26): every setting of every subcommand, as `wspush help
settings` lists it from the tables, is documented in the README, the man page and the three
completions; `serve` takes each setting from a flag, the environment or --config, in that
order of precedence."""

import json
import os

import pytest

from wspush_harness import DEADLINE, Server, connect, metrics, raw_http, recv_json, run_wspush

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def settings():
    r = run_wspush("help", "settings")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def flag_of(s):
    return s["flag"].split(", ")[-1]  # "-n, --count": --count


def test_help_settings_lists_every_subcommands_settings_with_env_and_key():
    rows = settings()
    assert {r["command"] for r in rows} == {"serve", "client", "publish", "bench"}
    by_flag = {(r["command"], flag_of(r)): r for r in rows}
    port = by_flag[("serve", "--port")]
    assert port["environment"] == "WSPUSH_PORT" and port["config_key"] == "port"
    assert port["default"] == "5000"
    assert by_flag[("serve", "--room")]["config_key"] == "rooms"
    assert by_flag[("serve", "--room")]["repeatable"] is True
    assert by_flag[("client", "--count")]["flag"] == "-n, --count"
    assert by_flag[("client", "--token")]["environment"] == "WSPUSH_CLIENT_TOKEN"
    # Only serve has a config file; every one of its settings but --config is in it.
    assert all(r["config_key"] for r in rows if r["command"] == "serve" and r["name"] != "config")


def test_every_setting_is_named_in_the_readme_the_man_page_and_the_completions():
    readme = open(os.path.join(TREE, "README.md")).read()
    man = open(os.path.join(TREE, "man", "wspush.1")).read().replace("\\-", "-")
    completions = {name: open(os.path.join(TREE, "completions", name)).read()
                   for name in ["wspush.bash", "_wspush", "wspush.fish"]}
    missing = []
    for s in settings():
        if s["positional"]:
            continue
        flag = flag_of(s)
        for where, text in [("README.md", readme), ("man/wspush.1", man)]:
            if flag not in text:
                missing.append("%s: %s %s" % (where, s["command"], flag))
        for name, text in completions.items():
            if flag not in text and "-l " + flag[2:] not in text:
                missing.append("completions/%s: %s %s" % (name, s["command"], flag))
        # serve's environment variables are listed one by one in the README.
        if s["command"] == "serve" and s["environment"] not in readme:
            missing.append("README.md: %s" % s["environment"])
    assert not missing, "\n".join(missing)


def test_the_readmes_settings_tables_are_made_from_the_binarys():
    import subprocess
    from wspush_harness import wspush_binary
    r = subprocess.run([os.path.join(TREE, "scripts", "settings-doc"), "--binary", wspush_binary()],
                       capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in open(os.path.join(TREE, "README.md")).read(), \
        "README.md's settings tables are stale: run scripts/settings-doc --fix"


def rooms_of(server):
    status, _, body = raw_http("127.0.0.1", server.port, "GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200, body
    return {r["path"]: r for r in json.loads(body)["rooms"]}


def loops_of(server):
    return sum(1 for k in metrics(server) if k.startswith("wspush_loop_connections{"))


def test_serve_takes_every_kind_of_setting_from_the_environment():
    env = {"WSPUSH_ROOM": "/a:relay  /b,history=3", "WSPUSH_THREADS": "3",
           "WSPUSH_SEND_PATH": "sendmsg", "WSPUSH_HISTORY": "5", "WSPUSH_PUBLIC_METRICS": "true"}
    with Server(env=env) as s:
        rooms = rooms_of(s)
        assert set(rooms) == {"/a", "/b"}
        assert rooms["/a"]["kind"] == "relay" and rooms["/a"]["history_capacity"] == 5
        assert rooms["/b"]["history_capacity"] == 3
        assert loops_of(s) == 3
        ws = connect(s.url("/a"))
        assert recv_json(ws)["data"] == "Welcome"
        ws.close()


def test_threads_and_send_path_come_from_the_config_file_too(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"threads": 3, "send_path": "sendmsg", "rooms": ["/r:relay"]}))
    with Server("--config", str(config)) as s:
        assert loops_of(s) == 3
        assert rooms_of(s)["/r"]["kind"] == "relay"


def test_a_flag_wins_over_the_environment_which_wins_over_the_file(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"history": 1, "rooms": ["/r"]}))
    for args, env, history in [(["--history", "3"], {"WSPUSH_HISTORY": "2"}, 3),
                               ([], {"WSPUSH_HISTORY": "2"}, 2),
                               ([], {}, 1)]:
        with Server("--config", str(config), *args, env=env) as s:
            assert rooms_of(s)["/r"]["history_capacity"] == history, (args, env)
    # The file's name itself may come from the environment.
    with Server(env={"WSPUSH_CONFIG": str(config)}) as s:
        assert rooms_of(s)["/r"]["history_capacity"] == 1


@pytest.mark.parametrize("env,fragment", [
    ({"WSPUSH_INTERVAL": "5"}, "WSPUSH_INTERVAL: invalid duration '5'"),
    ({"WSPUSH_THREADS": "0"}, "WSPUSH_THREADS: must be at least 1"),
    ({"WSPUSH_SEND_PATH": "carrier-pigeon"}, "WSPUSH_SEND_PATH: unknown value"),
    ({"WSPUSH_ROOM": "/a:party"}, "WSPUSH_ROOM: invalid room '/a:party'"),
])
def test_a_bad_environment_value_is_a_usage_error_that_names_the_variable(env, fragment):
    r = run_wspush("serve", "--port", "0", env=dict(os.environ, **env))
    assert r.returncode == 2 and fragment in r.stderr, r.stderr


def test_the_clients_take_their_settings_from_the_environment_too():
    with Server("--room", "/news") as s:
        env = dict(os.environ, WSPUSH_CLIENT_COUNT="1", WSPUSH_CLIENT_URL=s.url("/news"))
        r = run_wspush("client", env=env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["data"] == "Welcome"
