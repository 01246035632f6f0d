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
