# Shared by scripts/run and scripts/test: a .venv made with the Python that .python-version names,
# reinstalled only when pyproject.toml changed (so a second run takes a second).
ensure_venv() {
  local extras="$1" python stamp
  if [ ! -x .venv/bin/python ]; then
    python=""
    for candidate in "python$(cat .python-version)" python3.13 python3; do
      if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
        python="$candidate"; break
      fi
    done
    if [ -z "$python" ]; then
      echo "webchat needs Python 3.13 or newer (see .python-version); none was found on PATH." >&2
      exit 1
    fi
    "$python" -m venv .venv
  fi
  stamp=".venv/.installed${extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
    touch "$stamp"
  fi
}

# The browser suite's JavaScript test tools (tests/browser/package.json: the virtual screen reader),
# never shipped in static/: `npm ci` when node_modules is missing or older than the lock file.
# Without npm the tests that need them skip and say why (under CI=true they fail instead).
ensure_browser_test_tools() {
  local dir=tests/browser installed=tests/browser/node_modules/.package-lock.json
  if ! command -v npm >/dev/null 2>&1; then
    echo "scripts/test: npm not found; the virtual screen reader tests will skip (apt-get install npm)" >&2
    return 0
  fi
  if [ -f "$installed" ] && [ ! "$dir/package-lock.json" -nt "$installed" ] && [ ! "$dir/package.json" -nt "$installed" ]; then
    return 0
  fi
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
    if [[ "${CI:-}" =~ ^(1|true|yes)$ ]]; then
      echo "scripts/test: npm ci in $dir failed" >&2
      exit 1
    fi
    echo "scripts/test: npm ci in $dir failed; the virtual screen reader tests will skip" >&2
  fi
}
