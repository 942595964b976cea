"""Starts LocalStack in this process (host mode, no Docker), listening where GATEWAY_LISTEN
says -- only there.

LocalStack's default server (twisted, localstack/runtime/server/twisted.py) ignores the
host of an IPv4 GATEWAY_LISTEN entry and binds 0.0.0.0 (its code: "TODO: interface =
host?"): anyone on the network could then reach the emulator, and through it the local
KMS keys and data. This launcher passes the configured host to twisted's endpoint, so
GATEWAY_LISTEN=127.0.0.1:4599 listens on loopback only, then runs LocalStack's own entry
point (python -m localstack.runtime.main).

Usage: python -m agnus_localstack.run   (configured by environment: localstack/start.sh)
"""

from __future__ import annotations


def _bind_configured_interface() -> None:
    from twisted.internet import endpoints

    from localstack import config

    hosts = {hp.port: hp.host for hp in config.GATEWAY_LISTEN if not config.is_ipv6_address(hp.host)}
    tcp4 = endpoints.TCP4ServerEndpoint

    def endpoint(reactor, port, backlog=50, interface=""):
        return tcp4(reactor, port, backlog, interface or hosts.get(port, ""))

    endpoints.TCP4ServerEndpoint = endpoint


def main() -> None:
    _bind_configured_interface()
    from localstack.runtime.main import main as localstack_main

    localstack_main()


if __name__ == "__main__":
    main()
