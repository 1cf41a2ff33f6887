"""Run every benchmark and print each figure beside its baseline."""

from __future__ import annotations

from tests.bench import analyze_capture, fuzz_visca_ip, ocpp_rpc, roundtrip, visca_ip_decode


def main() -> None:
    print(f"{'benchmark':<40} {'baseline':>12} {'framework':>12} {'ratio':>7}")
    for bench in (roundtrip, visca_ip_decode, ocpp_rpc, fuzz_visca_ip, analyze_capture):
        for name, baseline, ours in bench.run():
            if baseline is None:  # the baseline could not run: its note says why
                print(f"{name:<40} {'n/a':>12} {ours:>12.0f} {'n/a':>7}")
            else:
                print(f"{name:<40} {baseline:>12.0f} {ours:>12.0f} {ours / baseline:>7.2f}")
    print(
        "round trips: baseline = bare socket against the same emulator; framework = "
        "transport with deadline, framing and per-message transcript"
    )
    print(
        f"VISCA-IP frames ({visca_ip_decode.FRAMES} of a command/inquiry/reply mix): "
        "baseline = Scapy UDP() stopping at Raw (port not 52381); framework = UDP() "
        "through the VISCA_IP/VISCA layers (port 52381), and visca_ip.decode() on the "
        "bare payloads"
    )
    print(
        f"OCPP-J ({ocpp_rpc.CALLS} TransactionEvent CALLs from one station): baseline = bare "
        "websockets server with a canned answer; framework = the CSMS side the suites play "
        "(framing rules, schema checks both ways, transcript)"
    )
    print(fuzz_visca_ip.LEGEND)
    for note in fuzz_visca_ip.notes:
        print(f"  {note}")
    print(analyze_capture.LEGEND)
    for note in analyze_capture.notes:
        print(f"  {note}")


if __name__ == "__main__":
    main()
