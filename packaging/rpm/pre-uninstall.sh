# levee .rpm %preun: stop the units on erase ($1 = 0), not on upgrade. Config (noreplace),
# data in /var/lib/levee and the levee user are kept; remove them by hand to start afresh.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl stop levee-worker.service levee.service >/dev/null 2>&1 || true
    systemctl disable levee.service levee-worker.service >/dev/null 2>&1 || true
fi
exit 0
