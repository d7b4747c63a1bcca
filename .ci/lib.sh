# Shared by the CI scripts (sourced, not run).

# A free TCP port on loopback.
free_port() {
  python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

# ci_venv MODULE PIP_SPEC: prints the path of the one Python venv the CI steps share (under
# $CARGO_TARGET_DIR, so re-runs reuse it), installing PIP_SPEC first unless MODULE imports.
ci_venv() {
  local venv
  venv=$(realpath -m "${CARGO_TARGET_DIR:-target}/ci-venv")
  # A venv copied or moved from elsewhere (a target directory seeded from another) still
  # runs its scripts with the old path's python and installs there: make a new one.
  if [ -d "$venv" ] && ! "$venv/bin/pip" --version 2>/dev/null | grep -qF "$venv/"; then
    rm -rf "$venv"
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  "$venv/bin/python" -c "import $1" 2>/dev/null || "$venv/bin/pip" install --quiet "$2" >&2
  echo "$venv"
}
