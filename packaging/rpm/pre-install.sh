# levee .rpm %pre: the service user, before files owned by it are unpacked.
getent group levee >/dev/null || groupadd --system levee
getent passwd levee >/dev/null || useradd --system --gid levee --home-dir /var/lib/levee \
    --no-create-home --shell /sbin/nologin --comment "levee service" levee
exit 0
