"""Audit the installed dependencies for known vulnerabilities (``python3 dev.py test`` runs it).

There is no lock file: what runs is what is installed, so this audits the
environment it runs in (the project's .venv). Two sources, both PyPI's own
vulnerability data (the OSV database behind it):

1. pip-audit (its default ``pypi`` service), for every installed distribution.
2. A distribution pip-audit could not look up — this network's PyPI answers the
   project JSON (``/pypi/<name>/json``) but not the per-release one that pip-audit
   asks for — is checked against the project JSON: when the installed version is
   the newest release, the ``vulnerabilities`` listed there are those of the
   installed version.

Exit 1 when a known vulnerability is found that ``IGNORED`` does not excuse.
Exit 0 otherwise; what could not be audited (PyPI unreachable, or an installed
version that is not the newest release) is named in a WARNING, so an unreachable
service never fails a build but is never silent either. docs/security.md.
"""

from __future__ import annotations

import json
import subprocess  # runs pip-audit from this environment, with fixed arguments # nosec B404
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import distributions

PYPI_JSON = "https://pypi.org/pypi/{}/json"
TIMEOUT = 15
#: vulnerability id → why it is accepted for now (keep docs/security.md in step)
IGNORED: dict[str, str] = {}
#: distributions never audited: this project itself (an editable install)
OWN = {"jixiao"}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed() -> dict[str, str]:
    return {_norm(d.metadata["Name"]): d.version for d in distributions()
            if d.metadata["Name"] and _norm(d.metadata["Name"]) not in OWN}


def run_pip_audit() -> tuple[list[tuple[str, str, str]], set[str]]:
    """(vulnerabilities found, names pip-audit skipped); all names skipped if it failed."""
    done = subprocess.run(  # noqa: S603 - fixed argv # nosec B603
        [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
         "--desc", "off", "--timeout", str(TIMEOUT)],
        capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit could not run its audit ({last}); checking PyPI's project JSON instead.")
        return [], set(installed())
    found, skipped = [], set()
    for dep in report.get("dependencies", []):
        name = _norm(dep["name"])
        if name in OWN:
            continue
        if "skip_reason" in dep:
            skipped.add(name)
        for vuln in dep.get("vulns", []):
            found.append((name, dep.get("version", "?"), vuln["id"]))
    return found, skipped


def project_json(name: str) -> dict | None:
    url = PYPI_JSON.format(name)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 # nosec B310
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def check_latest(names: set[str], versions: dict[str, str]):
    """(vulnerabilities found, names not audited with the reason) from the project JSON."""
    found, unaudited = [], {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(zip(sorted(names), pool.map(project_json, sorted(names)), strict=True))
    for name, data in answers.items():
        version = versions.get(name, "?")
        if data is None:
            unaudited[name] = f"{version}: PyPI did not answer"
        elif data.get("info", {}).get("version") != version:
            unaudited[name] = (f"{version}: the project JSON lists vulnerabilities of the "
                               f"newest release ({data.get('info', {}).get('version')}) only")
        else:
            found += [(name, version, v["id"]) for v in data.get("vulnerabilities") or []
                      if not v.get("withdrawn")]
    return found, unaudited


def main() -> int:
    versions = installed()
    found, skipped = run_pip_audit()
    more, unaudited = check_latest(skipped, versions)
    found += more
    excused = [f for f in found if f[2] in IGNORED]
    failing = [f for f in found if f[2] not in IGNORED]
    audited = len(versions) - len(unaudited)
    print(f"dependency audit: {audited} of {len(versions)} installed distributions audited, "
          f"{len(failing)} known vulnerabilities, {len(excused)} excused")
    for name, version, vuln_id in excused:
        print(f"  excused  {name} {version}: {vuln_id} ({IGNORED[vuln_id]})")
    for name, version, vuln_id in failing:
        print(f"  VULNERABLE  {name} {version}: {vuln_id}")
    if unaudited:
        print(f"WARNING: {len(unaudited)} distributions could not be audited:")
        for name, why in sorted(unaudited.items()):
            print(f"  {name} {why}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
