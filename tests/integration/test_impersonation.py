"""``kubernetes.impersonate`` over the wire: a real bot, kmock as the cluster, signed clicks. A confirmed change is made
as the person who clicked (``Impersonate-User``, one ``Impersonate-Group`` per group, as kmock receives them), the
bot's own reads (the runbook's diagnosis, following the rollout) as itself; a clicker with no identity is refused and
nothing changes; the cluster's RBAC refusing the person (or the bot's impersonation) is said naming whom; without the
setting no request carries the headers. And the client itself: the impersonating copy's headers reach the server on
every call, never the original's, from many threads at once."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import kmock
import pytest
import redis
import yaml

from bot.core.settings import SettingsError, load_config_file
from bot.core.settings.config import BotConfig
from runbooks.kube.client import Cluster
from tests.integration.test_runbooks import (
    command_reply,
    deployment_obj,
    emulated_cluster,
    offers,
    patch_count,
    wait_progress,
)
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator
from tests.support.redis_server import RedisServer
from tests.support.replies import buttons_of, wait_reply
from tests.support.runbook_seed import NS
from tests.support.slack_recorder import SlackRecorder, own_recorder

IMPERSONATE = "{users: {U0OPS: ops@acme.io}, groups: {S0SRE: [sre, oncall]}}"
Seen = tuple[str, str, list[str], list[str]]  # method, path, Impersonate-User values, Impersonate-Group values


def received(emulator: KubeEmulator) -> list[Seen]:
    """Every request kmock received, in order, with the impersonation headers as sent (each repeat kept)."""

    def read() -> list[Seen]:
        out = []
        for request in emulator.emulator:
            headers = request._raw_request.headers  # aiohttp's multidict: repeated headers kept
            method = str(request.method).upper().rsplit(".", 1)[-1]
            users, groups = headers.getall("Impersonate-User", []), headers.getall("Impersonate-Group", [])
            out.append((method, request.url.path, list(users), list(groups)))
        return out

    result: list[Seen] = emulator.call(read)
    return result


def plain(seen: Seen) -> bool:
    return not seen[2] and not seen[3]


def forbid(emulator: KubeEmulator, user: str, message: str, *where: Any) -> None:
    """The cluster's RBAC as kmock plays it: a PATCH of a Deployment made as ``user`` (or the requests ``where``
    names) answered 403 with ``message``."""
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": 403}
    made_as = kmock.headers({"Impersonate-User": user})
    which = where or ("patch", kmock.resource("apps/v1/deployments"))
    emulator.call(lambda: emulator.emulator[(*which, made_as)] << 403 << status)


def start(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, extra: str, aws: Moto | None = None
) -> Bot:
    config = tmp_path / "chatops.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS}}
            permissions: {{operators: [U0OPS, U0SRE, U0NOID]}}
            kubernetes: {{clusters: [{{name: emu, context: emu}}], rollout_timeout: 2s{extra}}}
            """
        )
        + ("aws: {region: us-east-1, rds: {instances: [prod-db]}}\n" if aws else "")
    )
    return Bot(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp_path / "bot.log",
        extra_env={"KUBECONFIG": str(tmp_path / "kubeconfig"), **(aws.env() if aws else {})},
    ).start()


recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)  # its threads and edits are its own


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """This module's own state store: its audit entries (restart, scale) stay out of the session's, which other
    modules read whole."""
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[KubeEmulator]:
    with emulated_cluster(tmp_path / "kubeconfig", "emu") as cluster:
        yield cluster


@pytest.fixture
def sre(recorder: SlackRecorder) -> Iterator[None]:
    """U0SRE is in the Slack user group S0SRE (usergroups.users.list); U0OPS and U0NOID are not."""
    recorder.usergroups["S0SRE"] = ["U0SRE"]
    yield
    recorder.usergroups.pop("S0SRE", None)


@pytest.fixture
def bot_with(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, emulator: KubeEmulator, sre: None
) -> Iterator[Callable[[str], SignedSlack]]:
    started: list[tuple[Bot, SignedSlack]] = []

    def make(extra: str, aws: Moto | None = None) -> SignedSlack:
        bot = start(tmp_path, recorder, redis_server, extra, aws)
        started.append((bot, SignedSlack(bot.base_url, recorder.response_url)))
        return started[-1][1]

    yield make
    recorder.clear_faults()
    for bot, slack in started:
        slack.close()
        bot.terminate()


def audited(state: redis.Redis, since: int, *kinds: str) -> list[dict[str, str]]:
    """The audit stream's entries of ``kinds`` after the first ``since``."""
    return [fields for _, fields in state.xrange("audit")[since:] if fields.get("kind") in kinds]


def click(slack: SignedSlack, recorder: SlackRecorder, action: str, value: str, user: str, phrase: str) -> Any:
    since = len(recorder.of("response_url"))
    slack.click(action, value, user=user)
    return wait_reply(recorder, since, phrase)


def test_a_rollback_is_made_as_the_clicker_and_the_bot_reads_as_itself(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    slack = bot_with(f", impersonate: {IMPERSONATE}")
    before = len(received(emulator))
    buttons = offers(command_reply(slack, recorder, "api-gateway production", "Rollout history", command="/rollback"))
    diagnosis = received(emulator)[before:]
    assert diagnosis and all(plain(s) for s in diagnosis)  # reading the history is the bot's own

    clicked, audit_from = len(received(emulator)), state.xlen("audit")
    rolled = "<@U0OPS> rolled back `production/api-gateway` to revision 2"
    click(slack, recorder, "offer_rollback", buttons[2], "U0OPS", rolled)
    wait_progress(recorder, "Rollout of `production/api-gateway`: rollout complete (3/3 updated, 3/3 available)")
    after = received(emulator)[clicked:]
    patches = [i for i, s in enumerate(after) if s[0] == "PATCH"]
    assert len(patches) == 1
    change, following = after[: patches[0] + 1], after[patches[0] + 1 :]
    assert all(s[2] == ["ops@acme.io"] and s[3] == [] for s in change)  # the re-plan's reads and the patch
    assert following and all(plain(s) for s in following)  # the rollout followed as the bot
    assert deployment_obj(emulator)["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.4.0")
    (done,) = audited(state, audit_from, "rollback")
    assert done["result"] == "done" and done["as"] == "ops@acme.io" and done["actor"] == "U0OPS"


def test_a_user_group_maps_to_its_groups_one_header_each(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    slack = bot_with(f", impersonate: {IMPERSONATE}")
    message = command_reply(slack, recorder, "scale api-gateway 5 production", "Scale: production/api-gateway")
    (button,) = buttons_of(message, "offer_scale")
    clicked, audit_from = len(received(emulator)), state.xlen("audit")
    click(
        slack,
        recorder,
        "offer_scale",
        button["value"],
        "U0SRE",
        "<@U0SRE> scaled `production/api-gateway` from 3 to 5 replica(s)",
    )
    (patch,) = [s for s in received(emulator)[clicked:] if s[0] == "PATCH"]
    assert patch[2] == ["slack:U0SRE"] and patch[3] == ["sre", "oncall"]
    assert deployment_obj(emulator)["spec"]["replicas"] == 5
    (done,) = audited(state, audit_from, "scale")
    assert done["as"] == "slack:U0SRE (groups sre, oncall)"


def test_a_clicker_without_an_identity_is_refused_and_nothing_changes(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    slack = bot_with(f", impersonate: {IMPERSONATE}")
    message = command_reply(slack, recorder, "restart api-gateway production", "Restart: production/api-gateway")
    (button,) = buttons_of(message, "offer_restart")
    clicked, audit_from = len(received(emulator)), state.xlen("audit")
    # an operator, but mapped to no one
    reply = click(slack, recorder, "offer_restart", button["value"], "U0NOID", "has no Kubernetes identity")
    assert reply["text"] == (
        "Restart refused: <@U0NOID> has no Kubernetes identity in kubernetes.impersonate (their Slack id under "
        "`users`, or a user group of theirs under `groups`): with it set, the bot carries out changes from chat only "
        "for the people it maps, and makes their cluster changes as them. Nothing was changed."
    )
    assert received(emulator)[clicked:] == []  # not one request to the cluster
    (refused,) = audited(state, audit_from, "restart")
    assert refused["result"].startswith("refused: <@U0NOID> has no Kubernetes identity") and "as" not in refused

    # the offer was given back: a mapped operator carries it out
    click(slack, recorder, "offer_restart", button["value"], "U0OPS", "<@U0OPS> restarted `production/api-gateway`")
    assert patch_count(emulator) == 1


def test_the_cluster_refusing_the_person_or_the_bot_is_said_naming_whom(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    forbid(
        emulator,
        "ops@acme.io",
        'deployments.apps "api-gateway" is forbidden: User "ops@acme.io" cannot patch resource "deployments" in API '
        'group "apps" in the namespace "production"',
    )
    forbid(
        emulator,
        "slack:U0SRE",
        'users "slack:U0SRE" is forbidden: User "system:serviceaccount:chatops:bot" cannot impersonate resource '
        '"users" in API group "" at the cluster scope',
    )
    slack = bot_with(f", impersonate: {IMPERSONATE}")
    message = command_reply(slack, recorder, "restart api-gateway production", "Restart: production/api-gateway")
    (button,) = buttons_of(message, "offer_restart")
    audit_from, clicked = state.xlen("audit"), len(received(emulator))

    reply = click(slack, recorder, "offer_restart", button["value"], "U0OPS", "refused")
    assert reply["text"] == (
        "Restart refused: the cluster's RBAC refused ops@acme.io: they may not restart production/api-gateway "
        "(bind them to a Role that allows it). Nothing was changed."
    )
    # given back: tried again, by someone else
    reply = click(slack, recorder, "offer_restart", button["value"], "U0SRE", "refused")
    assert reply["text"] == (
        "Restart refused: the cluster did not let the bot act as slack:U0SRE (groups sre, oncall): its "
        "ServiceAccount may not impersonate that user or group (deploy/rbac-impersonate.yaml grants it, listing the "
        "subjects). Nothing was changed."
    )
    assert "system:serviceaccount" not in reply["text"]  # the API server's own words stay out of the channel
    # One PATCH per click, each refused (kmock records the patched object even when its reaction answers 403, so the
    # requests are what is checked); no retry as anyone else.
    patches = [s for s in received(emulator)[clicked:] if s[0] == "PATCH"]
    assert [(s[2], s[3]) for s in patches] == [(["ops@acme.io"], []), (["slack:U0SRE"], ["sre", "oncall"])]
    entries = audited(state, audit_from, "restart")
    assert [(e["result"], e["as"]) for e in entries] == [
        ("refused by the cluster: 403", "ops@acme.io"),
        ("refused by the cluster: 403", "slack:U0SRE (groups sre, oncall)"),
    ]


def test_without_impersonate_no_request_carries_the_headers(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    slack = bot_with("")
    message = command_reply(slack, recorder, "restart api-gateway production", "Restart: production/api-gateway")
    (button,) = buttons_of(message, "offer_restart")
    audit_from = state.xlen("audit")
    # an operator: no identity needed
    click(slack, recorder, "offer_restart", button["value"], "U0NOID", "<@U0NOID> restarted `production/api-gateway`")
    seen = received(emulator)
    assert any(s[0] == "PATCH" for s in seen) and all(plain(s) for s in seen)
    (done,) = audited(state, audit_from, "restart")
    assert done["result"] == "done" and "as" not in done


def test_the_impersonating_client_sends_its_headers_on_every_call_and_never_the_originals(
    emulator: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    bot = Cluster.connect("emu", "emu")
    people = {f"user-{i}": bot.as_user(f"user-{i}@acme.io", [f"team-{i}", "everyone"]) for i in range(6)}

    def read(who: str, n: int) -> None:
        cluster = bot if who == "bot" else people[who]
        cluster.get(f"/apis/apps/v1/namespaces/{NS}/deployments/api-gateway", who=who, n=n)

    jobs = [(who, n) for n in range(10) for who in ["bot", *people]]
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda job: read(*job), jobs))

    def tagged() -> list[tuple[str, list[str], list[str]]]:
        return [
            (
                request.params.get("who", ""),
                list(request._raw_request.headers.getall("Impersonate-User", [])),
                list(request._raw_request.headers.getall("Impersonate-Group", [])),
            )
            for request in emulator.emulator
            if "who" in request.params
        ]

    seen = emulator.call(tagged)
    assert len(seen) == len(jobs)
    for who, users, groups in seen:
        if who == "bot":
            assert users == [] and groups == []
        else:
            i = who.rsplit("-", 1)[-1]
            assert users == [f"user-{i}@acme.io"] and groups == [f"team-{i}", "everyone"]
    assert bot.requests == 10  # each Cluster counts its own calls
    with pytest.raises(ValueError, match="not a Kubernetes identity"):
        bot.as_user("jürgen@acme.io")


def test_the_documented_settings_validate_and_bad_ones_are_named(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", docs, re.S)
    documented = [b for b in blocks if "impersonate:" in b and not b.lstrip().startswith("channels")]
    assert documented  # the section's own example
    least = {"channels": {"incidents": "C0INCIDENTS"}}  # a section's example, with what every config has
    for block in blocks:
        BotConfig.model_validate({**least, **yaml.safe_load(block)})
    (example,) = documented
    impersonate = BotConfig.model_validate({**least, **yaml.safe_load(example)}).kubernetes.impersonate
    assert impersonate is not None and impersonate.users == {"U0ALICE": "alice@acme.io"}

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "channels: {incidents: C0INCIDENTS}\n"
        'kubernetes: {impersonate: {users: {alice: alice@acme.io, U0BOB: " bob"}, groups: {S0SRE: []}}}\n'
    )
    with pytest.raises(SettingsError) as refused:
        load_config_file(bad)
    text = str(refused.value)
    assert "'alice' is not a Slack user id (like U0123ABCD)" in text
    assert "user group S0SRE maps to no Kubernetes groups" in text
    bad.write_text("channels: {incidents: C0INCIDENTS}\nkubernetes: {impersonate: {users: {U0BOB: jürgen}}}\n")
    with pytest.raises(SettingsError, match="non-ASCII letters"):
        load_config_file(bad)
    bad.write_text("channels: {incidents: C0INCIDENTS}\nkubernetes: {impersonate: {}}\n")
    with pytest.raises(SettingsError, match="lists no users and no groups"):
        load_config_file(bad)
