"""Chat: wiring only. Read settings, check them, build the parts, register API and pages, serve."""

import argparse
import os
import sys

from pydantic import ValidationError

from services.config import describe_validation_error, load_settings

DEFAULT_PORT = 8080


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="A real-time chat in Python. Every option also reads an environment variable; "
        "a flag wins over its variable. Without options: http://127.0.0.1:8080, SQLite under ./data, "
        "no other server needed.",
        epilog="Other settings, by environment only: CHAT_MEDIA_DIR (uploaded images; default "
        "CHAT_DATA_DIR/media), CHAT_REDIS_PREFIX (default 'chat'), CHAT_STORAGE_SECRET (signs browser "
        "sessions; generated once into the data dir), CHAT_ADMIN_TOKEN (enables the admin pages and API), "
        "CHAT_MAX_UPLOAD_MB (default 10), CHAT_RATE_LIMIT (messages per guest; default '20/10s', or 'off'), "
        "CHAT_ADDRESS_RATE_LIMIT (messages per client address; default three times CHAT_RATE_LIMIT), "
        "CHAT_GUEST_RATE_LIMIT (guests per client address; default '30/10min'), "
        "CHAT_TRUSTED_PROXIES (proxies whose X-Forwarded-For is believed, e.g. '10.0.0.0/8'), "
        "CHAT_PUBLIC_URL (e.g. https://chat.example.org: Secure cookies), "
        "CHAT_LOG_FORMAT ('text' or 'json'), CHAT_IMAGE_WORKERS (images decoded at once; default 2), "
        "CHAT_DB_POOL_SIZE (PostgreSQL connections per instance; default 10).",
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="open the chat in a desktop window instead of serving a browser; needs the 'native' extra "
        "(pip install -e '.[native]'); data then lives in your user data folder unless CHAT_DATA_DIR says otherwise",
    )
    parser.add_argument("--host", help="bind address [CHAT_HOST; default 127.0.0.1]")
    parser.add_argument("--port", help=f"port [CHAT_PORT; default {DEFAULT_PORT}, in native mode a free port]")
    parser.add_argument(
        "--data-dir",
        help="SQLite file, session storage and media "
        "[CHAT_DATA_DIR; default ./data, in native mode the user data folder]",
    )
    parser.add_argument(
        "--database-url",
        help="e.g. postgresql+psycopg://user:pw@host:5432/chat [CHAT_DATABASE_URL; default SQLite in the data dir]",
    )
    parser.add_argument(
        "--redis-url",
        help="e.g. redis://127.0.0.1:6379/0, for several instances [CHAT_REDIS_URL; default: in-process bus]",
    )
    return parser


def fail(message: str) -> None:
    print(f"chat: error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.native:
        check_native_support()
        if sys.platform == "linux":  # pywebview would try GTK first and print its failure at length
            os.environ.setdefault("PYWEBVIEW_GUI", "qt")
        if args.data_dir is None and not os.environ.get("CHAT_DATA_DIR"):
            args.data_dir = native_data_dir()
    flags = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "redis_url": args.redis_url,
    }
    try:
        settings = load_settings(**flags)
    except ValidationError as error:
        given = {name for name, value in flags.items() if value is not None}
        fail(describe_validation_error(error, flags_given=given))
        return

    from services.context import StartupError, prepare

    port = settings.port or (free_port(settings.host) if args.native else DEFAULT_PORT)
    try:
        context = prepare(settings, port=port)
    except StartupError as error:
        fail(str(error))
        return
    serve(context, port=port, native=args.native)


def check_native_support() -> None:
    """The desktop window is an optional extra: say in one line what to install when it is missing."""
    try:
        import webview  # noqa: F401
    except ImportError:
        fail(
            "the desktop window needs pywebview: pip install -e '.[native]' "
            "(Linux: Qt, as in the README; macOS and Windows: nothing else)"
        )


def native_data_dir() -> str:
    """The user's application-data folder, so that the desktop app works from any current directory."""
    import platformdirs

    return platformdirs.user_data_dir("Chat", appauthor=False)


def free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve(context, *, port: int, native: bool = False) -> None:  # type: ignore[no-untyped-def]
    # NiceGUI is imported only now: its storage path must point into the data dir first.
    storage_path = (context.settings.data_dir / "sessions").resolve()
    os.environ["NICEGUI_STORAGE_PATH"] = str(storage_path)
    from nicegui import app, ui
    from nicegui.storage import Storage

    Storage.path = storage_path  # in case NiceGUI was imported earlier (tests do)

    import logging

    import api
    import api.operations
    import api.websocket_deflate
    import chat_ui
    from services import logs, metrics

    logs.configure(log_format=context.settings.log_format, instance=context.instance_id)
    log = logging.getLogger("chat")
    api.install(app, context)
    api.websocket_deflate.install()  # the pages' sockets compress with 48 KiB of state, not 256
    api.operations.install(app, context, title="Chat API")  # /metrics, /docs, headers, cookies
    chat_ui.register(context)  # pages, and the open-views gauge of /metrics
    metrics.watch_pool(context.db.engine.pool)
    host = context.settings.host

    async def announce() -> None:
        await context.start()
        log.info("start-up", extra={"url": f"http://{host}:{port}", "database": context.db.dialect})
        # One write, newline included: print() writes the line and its end separately, and a log
        # line from another thread could land in between (tests read the URL from this line).
        print(f"Chat is serving on http://{host}:{port}\n", end="", flush=True)

    async def stop() -> None:
        log.info("shutdown")
        await context.stop()

    app.on_startup(announce)
    app.on_shutdown(stop)
    chat_ui.collector.install()  # see chat_ui/collector.py: fewer, shorter collector pauses
    ui.run(
        host=host,
        port=port,
        title=chat_ui.PRODUCT_NAME,
        storage_secret=context.storage_secret,
        reload=False,
        show=False,
        show_welcome_message=False,
        # No fastapi_docs: api/docs.py serves /docs without a CDN. No session_middleware_kwargs:
        # api/operations.py adds the session middleware, inside the one that flags its cookie.
        log_config=None,  # uvicorn's records go through services/logs.py like everyone else's
        access_log=False,  # api/metrics.py writes one line per request, with the route and the client
        reconnect_timeout=10,  # a phone switching networks keeps its page instead of reloading it
        # The app reads X-Forwarded-* itself, believing only CHAT_TRUSTED_PROXIES (services/client_address.py);
        # uvicorn's own rewrite would believe them from any local peer and so bypass per-address limits.
        proxy_headers=False,
        # window_size switches native mode on by itself, so it is only passed for the desktop window.
        **({"native": True, "window_size": (1100, 760)} if native else {}),
    )


if __name__ == "__main__":
    main()
