#!/bin/sh
# Builds the appliance's arm64 root file system from Debian's archive and PyPI alone:
# debootstrap for arm64 (run through qemu-user-static), the app in a venv from aarch64 wheels,
# the units enabled, journald in RAM, the hardware watchdog on, overlayroot ready.
#
#   deploy/image/build-rootfs.sh ROOTFS [--bootable]
#
# --bootable adds Debian's arm64 kernel and raspi-firmware (Pi 4 boot files, non-free-firmware)
# for deploy/image/assemble-image.sh; without it the tree is for systemd-nspawn tests.
# Needs root, and the Debian packages debootstrap, qemu-user-static and binfmt-support.
set -eu

ROOTFS=$(realpath -m "${1:?usage: build-rootfs.sh ROOTFS [--bootable]}")  # debootstrap wants it absolute
BOOTABLE=${2:-}
RELEASE=${RELEASE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PYTHON=${PYTHON:-python3}

# The kernel runs arm64 programs through qemu once binfmt_misc knows it.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64

# python3-cffi-backend is named because debootstrap does not resolve the virtual package
# (python3-cffi-backend-api-*) that cloud-init's python3-cryptography needs.
PACKAGES=python3,python3-venv,systemd,systemd-sysv,udev,dbus,openssh-server,ca-certificates,iproute2,libspeexdsp1,overlayroot,cloud-init,python3-cffi-backend,netbase,ifupdown,isc-dhcp-client
if [ "$BOOTABLE" = "--bootable" ]; then
    PACKAGES=$PACKAGES,linux-image-arm64,raspi-firmware,firmware-brcm80211,wpasupplicant
fi

# The Debian part is made once per tree (a few minutes under qemu); the app is installed anew
# on every run.
if [ ! -e "$ROOTFS/.debootstrap-done" ]; then
    rm -rf "$ROOTFS"
    debootstrap --arch=arm64 --variant=minbase --components=main,non-free-firmware \
        --include="$PACKAGES" "$RELEASE" "$ROOTFS" "$MIRROR"
    touch "$ROOTFS/.debootstrap-done"
fi

# The app: this checkout as a wheel, its dependencies as aarch64 wheels from PyPI.
WHEELS=$(mktemp -d)
trap 'rm -rf "$WHEELS"' EXIT
"$PYTHON" -m pip wheel -q --no-deps -w "$WHEELS" "$REPO"
mkdir -p "$ROOTFS/opt/intercom/wheels"
cp "$WHEELS"/intercom-*.whl "$ROOTFS/opt/intercom/wheels/"
# The build host's name servers and CAs (a proxy's, say) serve the download, and are not kept.
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/tmp/build-host-ca.crt"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PIP_CERT=/tmp/build-host-ca.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 chroot "$ROOTFS" /bin/sh -eu <<'EOF'
[ -x /opt/intercom/venv/bin/python ] || python3 -m venv /opt/intercom/venv
# The app anew every run; its dependencies only when missing or changed.
/opt/intercom/venv/bin/pip install -q --only-binary=:all: --force-reinstall --no-deps \
    /opt/intercom/wheels/intercom-*.whl
/opt/intercom/venv/bin/pip install -q --only-binary=:all: /opt/intercom/wheels/intercom-*.whl
rm -rf /opt/intercom/wheels /root/.cache/pip
EOF
rm -f "$ROOTFS/tmp/build-host-ca.crt"
: > "$ROOTFS/etc/resolv.conf"

# Units, users, device rules, journald in RAM, the SoC watchdog.
install -D -m 0644 -t "$ROOTFS/etc/systemd/system" "$REPO"/deploy/systemd/*.service
install -D -m 0644 -t "$ROOTFS/usr/lib/sysusers.d" "$REPO"/deploy/sysusers.d/intercom.conf
install -D -m 0644 -t "$ROOTFS/etc/udev/rules.d" "$REPO"/deploy/udev/60-intercom-devices.rules
install -D -m 0644 -t "$ROOTFS/etc/systemd/journald.conf.d" "$REPO"/deploy/journald.conf.d/*.conf
install -D -m 0644 -t "$ROOTFS/etc/systemd/system.conf.d" "$REPO"/deploy/system.conf.d/*.conf
install -d -m 0750 "$ROOTFS/etc/intercom" "$ROOTFS/var/lib/intercom"
install -d "$ROOTFS/boot/firmware"
chroot "$ROOTFS" /bin/sh -eu <<'EOF'
systemd-sysusers
chown root:intercom /etc/intercom
chown intercom:intercom /var/lib/intercom
systemctl enable intercom-firstboot.service intercom-station.service
systemctl enable ssh.service 2>/dev/null || true
# cloud-init reads hostname, SSH keys and Wi-Fi from the boot partition (NoCloud seed).
mkdir -p /etc/cloud/cloud.cfg.d
printf 'datasource_list: [NoCloud, None]\ndatasource:\n  NoCloud:\n    seedfrom: /boot/firmware/\n' \
    > /etc/cloud/cloud.cfg.d/99-intercom.cfg
# No shared password: root has none, SSH takes keys only (from cloud-init's user-data).
passwd -l root >/dev/null
mkdir -p /etc/ssh/sshd_config.d
printf 'PasswordAuthentication no\nPermitRootLogin prohibit-password\n' > /etc/ssh/sshd_config.d/intercom.conf
# Each device makes its own SSH host keys on first boot.
rm -f /etc/ssh/ssh_host_*
echo intercom > /etc/hostname
EOF
# Regenerated at first boot by ssh's own unit (sshd-keygen) or cloud-init.
install -D -m 0644 /dev/stdin "$ROOTFS/etc/systemd/system/ssh.service.d/host-keys.conf" <<'EOF'
[Service]
ExecStartPre=/usr/bin/ssh-keygen -A
EOF
# The read-only root: overlayroot keeps / in RAM over the SD card; /var/lib/intercom (the data
# partition, see assemble-image.sh) stays writable.
if [ -e "$ROOTFS/etc/overlayroot.conf" ]; then
    sed -i 's/^overlayroot=.*/overlayroot="tmpfs:recurse=0"/' "$ROOTFS/etc/overlayroot.conf"
fi
echo "root file system ready in $ROOTFS"
