"""Regenerate docs/screenshot.png: the UI answering the mission question (and a follow-up) over the bundled examples.

Run by `make screenshot`. Ingests examples/corpus into the data home (unchanged files are skipped), serves the
UI on a free loopback port, asks the question in headless Chromium at 1280x900 and saves the viewport.
Not a test module (no test_ prefix): pytest does not collect it.
"""

from __future__ import annotations

import argparse
import gc
import socket
import sys
from pathlib import Path

import litassist.assistant  # noqa: F401  (offline switches before gradio loads)
from tests.conftest import store_at, torch_encoder

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / ".litassist", help="data home (default: .litassist)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "examples" / "corpus")
    parser.add_argument("--question", default="How does HER2 affect CXCR4?")
    parser.add_argument("--follow-up", default="", help="a second question asked in the same conversation")
    parser.add_argument("--years", default="1980-2025", help="a year filter FROM-TO, so the active filters show")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args()
    if not args.chromium.exists():
        print(f"error: no Chromium at {args.chromium} (Debian: apt-get install chromium)", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    from litassist.app import serve
    from litassist.assistant.settings import ServerSettings, Settings
    from tests.conftest import ingest

    encoder = torch_encoder()
    report = ingest([args.corpus], store_at(args.home, encoder.name), encoder)
    if report.failed:
        print(f"error: ingest failed for {[o.file for o in report.failed]}", file=sys.stderr)
        return 1
    del report, encoder
    gc.collect()  # free ingest's progress bars before Gradio patches tqdm

    port = free_port()
    demo = serve(Settings(home=args.home, server=ServerSettings(port=port)), block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(args.chromium), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")  # not networkidle: Gradio keeps a connection
            box = page.locator("#question textarea")
            box.wait_for()
            if args.years:  # a range that keeps every bundled source, so the answer stays and "active filters" show
                page.get_by_text("Filters").click()
                for selector, year in zip(("#year-min input", "#year-max input"), args.years.split("-")):
                    page.locator(selector).fill(year)
                page.get_by_text("Filters").click()  # fold the panel again so the answer and its cards fill the view
            for turn, question in enumerate(q for q in (args.question, args.follow_up) if q):
                box.fill(question)
                box.press("Enter")
                page.locator("#chat").get_by_text("Quoted from your sources").nth(turn).wait_for()
            page.locator("#sources .la-card").first.wait_for()
            page.wait_for_timeout(500)  # let the last streamed update settle
            page.evaluate("window.scrollTo(0, 0)")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        demo.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
