# levee .rpm %post: data directory and config permissions; restart on upgrade ($1 > 1).
install -d -o levee -g levee -m 0750 /var/lib/levee /var/log/levee
chown root:levee /etc/levee /etc/levee/config.toml
chmod 0750 /etc/levee
chmod 0640 /etc/levee/config.toml
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    [ "$1" -gt 1 ] && systemctl try-restart levee.service levee-worker.service >/dev/null 2>&1 || true
fi
exit 0
