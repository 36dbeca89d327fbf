"""The `chat_open_views` gauge of /metrics: pages with a live connection to this process.

Read from NiceGUI's clients when scraped rather than counted up and down on connect and
disconnect, which can pair up unevenly when a socket drops while its page is connecting.
"""

from nicegui import Client

from services import metrics


def connected_pages() -> int:
    return sum(1 for client in list(Client.instances.values()) if client.has_socket_connection)


def install() -> None:
    metrics.OPEN_VIEWS.set_function(connected_pages)
