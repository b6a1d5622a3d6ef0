"""``intercom``: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from pathlib import Path

from intercom.configfile import ConfigError


def _duration(text: str) -> float | None:
    """``90``, ``90s``, ``15m``, ``12h``, ``30d`` or ``never``."""
    if text == "never":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 90s, 15m, 12h, 30d)")
    value, unit = match.groups()
    return float(value) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intercom", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("exchange", help="run the phone system")
    ex.add_argument("--config", required=True, type=Path, help="exchange TOML file")
    ex.add_argument("--host", help="listen address (overrides the file)")
    ex.add_argument("--port", type=int, help="listen port (overrides the file)")

    st = sub.add_parser("station", help="run the door-station firmware")
    st.add_argument("--config", required=True, type=Path, help="station TOML file")

    bell = sub.add_parser("bell", help="press a bell of a running station or demo")
    bell.add_argument("bell", nargs="?", type=int, default=1)
    _data_dir_option(bell)

    ev = sub.add_parser("events", help="show the station's event log, newest first")
    _data_dir_option(ev)
    ev.add_argument("--since", type=float, default=0.0, help="Unix time to start from")
    ev.add_argument("--limit", type=_positive, default=50, help="the newest N events (default 50)")
    ev.add_argument(
        "--kind",
        action="append",
        default=[],
        choices=sorted(_event_kinds()),
        metavar="KIND",
        help="only events of this kind (repeat for several): unlock, wrong_code, lockout, ...",
    )
    ev.add_argument("--json", action="store_true", help="one JSON object per line")

    code = sub.add_parser("code", help="set a door code (stored hashed in the configuration)")
    code_sub = code.add_subparsers(dest="code_command", required=True)
    code_set = code_sub.add_parser(
        "set", help="read a new code (asked twice, or one line from stdin) and store its hash"
    )
    code_set.add_argument(
        "--config",
        type=Path,
        default=None,
        help="station TOML file (default: /etc/intercom/station.toml)",
    )
    code_set.add_argument("--relay", default=None, help="the relay it opens (default: the first)")
    code_set.add_argument(
        "--add", action="store_true", help="keep the relay's other codes (default: replace them)"
    )
    code_set.add_argument("--no-reload", action="store_true", help="do not signal the station")

    stat = sub.add_parser("status", help="the running station: connection, relays, last events")
    _data_dir_option(stat)
    stat.add_argument("--json", action="store_true", help="print JSON")

    first = sub.add_parser("firstboot", help="import intercom.toml from the boot partition")
    first.add_argument("--boot", type=Path, default=Path("/boot/firmware"))
    first.add_argument("--config-dir", type=Path, default=Path("/etc/intercom"))

    conf = sub.add_parser("config", help="show, check or change a configuration file")
    conf.add_argument(
        "--config",
        type=Path,
        default=None,
        help="station or exchange TOML file (default: /etc/intercom/station.toml)",
    )
    conf_sub = conf.add_subparsers(dest="config_command", required=True)
    show = conf_sub.add_parser("show", help="the effective configuration, secrets masked")
    show.add_argument("--secrets", action="store_true", help="show passwords and codes too")
    conf_sub.add_parser("validate", help="check the file; exit status 2 with the reason if bad")
    cset = conf_sub.add_parser("set", help="change values (validated, atomic) and reload")
    cset.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    cset.add_argument("--no-reload", action="store_true", help="do not signal the station")
    cedit = conf_sub.add_parser("edit", help="edit in $EDITOR; saved only once it validates")
    cedit.add_argument("--no-reload", action="store_true", help="do not signal the station")

    demo = sub.add_parser("demo", help="run the embedded demo on this machine")
    demo.add_argument("--port", type=int, default=7777)
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="listen address; 0.0.0.0 lets phones on the network open the app",
    )
    demo.add_argument("--data-dir", type=Path, default=Path("demo-data"))

    tls = sub.add_parser("tls", help="the exchange's TLS certificate")
    tls_sub = tls.add_subparsers(dest="tls_command", required=True)
    tls_show = tls_sub.add_parser(
        "show", help="its SHA-256 fingerprint, names, validity and whether it was generated"
    )
    tls_show.add_argument(
        "--config",
        type=Path,
        default=None,
        help="exchange TOML file, or a station file with embedded_exchange "
        "(default: /etc/intercom/station.toml)",
    )

    tok = sub.add_parser("token", help="manage access tokens")
    tok_sub = tok.add_subparsers(dest="token_command", required=True)
    create = tok_sub.add_parser("create", help="print a new token")
    create.add_argument("--config", required=True, type=Path)
    create.add_argument("--extension", required=True)
    create.add_argument(
        "--privilege",
        action="append",
        default=[],
        help="call, monitor, modify, directory, history, door (repeat for several)",
    )
    create.add_argument("--ttl", type=_duration, default=86400.0, help="lifetime (default 1d)")
    tlist = tok_sub.add_parser("list", help="the tokens: id, extension, privileges, expiry")
    tlist.add_argument("--config", required=True, type=Path)
    tlist.add_argument("--json", action="store_true", help="one JSON object per line")
    revoke = tok_sub.add_parser("revoke", help="revoke one token; its connections are closed")
    revoke.add_argument("--config", required=True, type=Path)
    revoke.add_argument("id", help="the token's id as `intercom token list` shows it")

    passwd = sub.add_parser(
        "passwd", help="set an extension's password (the exchange's file keeps only its hash)"
    )
    passwd.add_argument(
        "--config",
        type=Path,
        default=Path("/etc/intercom/exchange.toml"),
        help="exchange TOML file (default: /etc/intercom/exchange.toml)",
    )
    passwd.add_argument("extension")
    passwd.add_argument(
        "--generate",
        action="store_true",
        help="make a random password and print it (once: it is not kept anywhere)",
    )
    passwd.add_argument("--no-reload", action="store_true", help="do not signal the exchange")
    passwd.add_argument(
        "--keep-tokens",
        action="store_true",
        help="keep the extension's access tokens (by default a new password revokes them)",
    )

    bench = sub.add_parser("bench", help="measure performance")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    bex = bench_sub.add_parser("exchange", help="connections, call rate and latency")
    bex.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bex.add_argument("--clients", type=int, default=2000)
    bex.add_argument("--cycles", type=int, default=2000, help="call cycles for the rate test")
    bex.add_argument("--latency-rate", type=float, default=100.0)
    bex.add_argument("--latency-seconds", type=float, default=10.0)
    bso = bench_sub.add_parser("soak", help="bell, answer, unlock, hang up, many times")
    bso.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bso.add_argument("--cycles", type=int, default=1000)
    bfz = bench_sub.add_parser(
        "fuzz", help="password guessing and hostile frames while a resident keeps calling"
    )
    bfz.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bfz.add_argument("--frames", type=int, default=100_000, help="hostile frames to send")
    bfz.add_argument("--seconds", type=float, default=5.0, help="round-trip sampling, each")
    bfz.add_argument("--seed", type=int, default=1, help="the hostile frames' random seed")
    bme = bench_sub.add_parser("media", help="call setup, latency and CPU of call media")
    bme.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bme.add_argument("--calls", type=int, default=10)
    bme.add_argument("--hold", type=float, default=2.0, help="seconds of video per call")
    bme.add_argument("--cpu-seconds", type=float, default=15.0)

    proto = sub.add_parser("protocol", help="the wire protocol")
    proto_sub = proto.add_subparsers(dest="protocol_command", required=True)
    proto_sub.add_parser("schema", help="print the JSON Schema of every request, event and result")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _event_kinds() -> frozenset[str]:
    from intercom.station.events import KINDS

    return KINDS


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the station's data directory (default: the one /etc/intercom/station.toml names,"
        " else the demo's)",
    )


def _data_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    from intercom.configtool import DEFAULT_CONFIG, station_data_dir

    if DEFAULT_CONFIG.exists():
        found = station_data_dir(DEFAULT_CONFIG)
        if found is not None:
            return found
    return Path("demo-data")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Per-candidate ICE checks and per-socket notes drown what matters.
        for name in ("aioice", "aiortc", "websockets.server"):
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        if args.command == "exchange":
            from intercom.exchange.server import run_exchange

            asyncio.run(run_exchange(args.config, args.host, args.port))
        elif args.command == "station":
            from intercom.appliance import run_station

            asyncio.run(run_station(args.config))
        elif args.command == "bell":
            from intercom.station.service import request_bell

            try:
                request_bell(_station_dir(_data_dir(args.data_dir)), args.bell)
            except (RuntimeError, OSError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        elif args.command == "events":
            return _events(args)
        elif args.command == "code":
            return _code(args)
        elif args.command == "status":
            return _status(args)
        elif args.command == "config":
            return _config(args)
        elif args.command == "firstboot":
            from intercom.firstboot import run as first_boot

            outcome = first_boot(args.boot, args.config_dir)
            for name in outcome.imported:
                print(f"imported {name} into {args.config_dir}")
            for what in outcome.generated:
                print(f"generated {what}")
            for name in outcome.errors:
                print(f"refused {name}: see {args.boot / (name + '.error')}", file=sys.stderr)
            return 2 if outcome.errors else 0
        elif args.command == "demo":
            from intercom.demo import run_demo

            asyncio.run(run_demo(args.data_dir, args.port, args.host))
        elif args.command == "tls":
            return _tls_show(args)
        elif args.command == "token":
            return _token(args)
        elif args.command == "passwd":
            return _passwd(args)
        elif args.command == "protocol":
            import json

            from intercom.protocol.schema import protocol_schema

            print(json.dumps(protocol_schema(), indent=2))
        elif args.command == "bench" and args.bench_command == "exchange":
            from intercom.bench.exchange import main as bench_exchange

            return bench_exchange(args)
        elif args.command == "bench" and args.bench_command == "fuzz":
            from intercom.bench.fuzz import main as bench_fuzz

            return bench_fuzz(args)
        elif args.command == "bench" and args.bench_command == "soak":
            from intercom.bench.soak import main as bench_soak

            return bench_soak(args)
        elif args.command == "bench":
            from intercom.bench.media import main as bench_media

            return bench_media(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _status(args: argparse.Namespace) -> int:
    import json

    from intercom.station.status import format_status, last_events, read_status

    data_dir = _station_dir(_data_dir(args.data_dir))
    status = read_status(data_dir)
    events = last_events(data_dir)
    if args.json:
        print(json.dumps({"status": status, "events": events}, sort_keys=True))
    else:
        print(format_status(status, events))
    return 0 if status is not None else 3  # 3: not running, as `systemctl status` says


def _config(args: argparse.Namespace) -> int:
    from intercom import configtool

    path = args.config or configtool.DEFAULT_CONFIG
    command = args.config_command
    if command == "show":
        print(configtool.show(path, secrets=args.secrets), end="")
    elif command == "validate":
        from intercom.station.config import StationConfig, warnings

        config = configtool.validate_text(path, configtool.read(path))
        print(f"ok: {path}")
        for warning in warnings(config) if isinstance(config, StationConfig) else []:
            print(f"warning: {warning}", file=sys.stderr)
        for warning in configtool.secret_warnings(path, config):
            print(f"warning: {warning}", file=sys.stderr)
    elif command == "set":
        try:
            configtool.set_values(path, args.assignments)
        except (ValueError, ConfigError) as exc:
            print(f"error: {exc}; {path} unchanged", file=sys.stderr)
            return 2
        print("saved" if args.no_reload else configtool.reload_running(path))
    elif command == "edit":
        if not configtool.edit(path):
            return 2
        print("saved" if args.no_reload else configtool.reload_running(path))
    return 0


def _station_dir(data_dir: Path) -> Path:
    return data_dir / "station" if (data_dir / "station").is_dir() else data_dir


def _events(args: argparse.Namespace) -> int:
    import json
    import time

    from intercom.station.events import EventLog

    path = _station_dir(_data_dir(args.data_dir)) / "events.db"
    if not path.exists():
        print(f"error: no event log at {path}", file=sys.stderr)
        return 2
    log = EventLog(path)
    try:
        for event in log.recent(args.limit, args.kind, args.since):
            if args.json:
                print(json.dumps(event, sort_keys=True))
            else:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.pop("at")))
                event.pop("id")
                kind = event.pop("kind")
                rest = " ".join(f"{k}={v}" for k, v in sorted(event.items()))
                print(f"{when}  {kind:<18} {rest}".rstrip())
    finally:
        log.close()
    return 0


def _code(args: argparse.Namespace) -> int:
    """``intercom code set``: the code is read without echo (twice, to catch a typo) or as
    one line from a pipe, checked, and only its hash is written."""
    import getpass

    from intercom import configtool
    from intercom.station.unlock import check_code, hash_code

    path = args.config or configtool.DEFAULT_CONFIG
    try:
        if sys.stdin.isatty():
            code = getpass.getpass("new door code: ")
            if getpass.getpass("the same code again: ") != code:
                raise ValueError("the codes do not match")
        else:
            code = sys.stdin.readline().strip()
        configtool.set_code_hash(path, args.relay, hash_code(check_code(code)), add=args.add)
    except (ValueError, ConfigError) as exc:
        print(f"error: {exc}; {path} unchanged", file=sys.stderr)
        return 2
    print("saved" if args.no_reload else configtool.reload_running(path))
    return 0


def _tls_show(args: argparse.Namespace) -> int:
    """``intercom tls show``: the certificate the exchange of ``--config`` serves, found as the
    exchange finds it (the configured pair, else its own in its data directory)."""
    from intercom import configtool
    from intercom.configfile import beside
    from intercom.exchange.config import ExchangeConfig, data_dir_of, load_exchange_config
    from intercom.exchange.tls import describe, own_certificate
    from intercom.station.config import StationConfig

    path: Path = args.config or configtool.DEFAULT_CONFIG
    config = configtool.validate_text(path, configtool.read(path))
    if isinstance(config, StationConfig):
        if not config.station.embedded_exchange:
            print(
                f"error: {path} runs no exchange (no embedded_exchange); give its exchange's "
                "file with --config",
                file=sys.stderr,
            )
            return 2
        path = beside(path, config.station.embedded_exchange)
        config = load_exchange_config(path)
    assert isinstance(config, ExchangeConfig)
    tls = config.exchange.tls
    if not tls.enabled:
        print(f"TLS is turned off in {path} (tls.enabled = false)")
        return 0
    if tls.certificate:
        certificate, generated = beside(path, tls.certificate), False
    else:
        certificate, generated = own_certificate(data_dir_of(config, path))[0], True
    if not certificate.is_file():
        print(
            f"no certificate yet at {certificate}: the exchange makes one at its first start",
            file=sys.stderr,
        )
        return 3
    print(describe(certificate, generated))
    return 0


def _token(args: argparse.Namespace) -> int:
    import json
    import time

    from intercom.exchange.auth import TokenStore
    from intercom.exchange.config import data_dir_of, load_exchange_config
    from intercom.exchange.server import reload_running_exchange
    from intercom.protocol.enums import Privilege

    config = load_exchange_config(args.config)
    data_dir = data_dir_of(config, args.config)
    store = TokenStore(data_dir / "tokens.db")
    try:
        if args.token_command == "list":
            for token in store.list():
                if args.json:
                    print(json.dumps(token.__dict__, sort_keys=True))
                    continue
                expires = (
                    "never"
                    if token.expires_at is None
                    else time.strftime("%Y-%m-%d %H:%M", time.localtime(token.expires_at))
                )
                expired = token.expires_at is not None and token.expires_at < time.time()
                print(
                    f"{token.id}  {token.extension:<8} {','.join(token.privileges):<40} "
                    f"{'expired' if expired else 'expires'} {expires}"
                )
            return 0
        if args.token_command == "revoke":
            try:
                revoked = store.revoke(args.id)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            reloaded = reload_running_exchange(data_dir)
            print(f"revoked {revoked.id} of extension {revoked.extension}; {reloaded}")
            return 0
        extension = next((e for e in config.extensions if e.number == args.extension), None)
        if extension is None:
            raise ConfigError(args.config, "extensions", f"no extension {args.extension!r}")
        try:
            privileges = {Privilege(p) for p in args.privilege} or {Privilege.CALL}
        except ValueError as exc:
            names = ", ".join(p.value for p in Privilege)
            print(f"error: {exc}; privileges are {names}", file=sys.stderr)
            return 2
        try:
            new_token = store.create(
                args.extension, privileges, args.ttl, allowed=set(extension.privileges)
            )
        except ValueError as exc:
            print(f"error: {exc}; a token has only its extension's privileges", file=sys.stderr)
            return 2
        print(new_token)
    finally:
        store.close()
    return 0


def _passwd(args: argparse.Namespace) -> int:
    """``intercom passwd``: the password is read without echo (twice, to catch a typo), as one
    line from a pipe, or made here; only its scrypt hash is written."""
    import getpass
    import secrets

    from intercom import configtool

    try:
        if args.generate:
            password = secrets.token_urlsafe(12)
        elif sys.stdin.isatty():
            password = getpass.getpass(f"new password for extension {args.extension}: ")
            if getpass.getpass("the same password again: ") != password:
                raise ValueError("the passwords do not match")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        configtool.set_password(args.config, args.extension, password)
    except (ValueError, ConfigError) as exc:
        print(f"error: {exc}; {args.config} unchanged", file=sys.stderr)
        return 2
    if args.generate:
        print(f"extension {args.extension} password {password}")
    # A new password is a new tenant or a leaked secret: the tokens made for the old one go
    # with it, before the reload that closes their connections.
    revoked = 0 if args.keep_tokens else _revoke_tokens(args.config, args.extension)
    print("saved" if args.no_reload else configtool.reload_running(args.config))
    if revoked:
        print(f"revoked {revoked} access token(s) of extension {args.extension}")
    return 0


def _revoke_tokens(config_path: Path, extension: str) -> int:
    from intercom.exchange.auth import TokenStore
    from intercom.exchange.config import data_dir_of, load_exchange_config

    store = TokenStore(data_dir_of(load_exchange_config(config_path), config_path) / "tokens.db")
    try:
        return store.revoke_extension(extension)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
