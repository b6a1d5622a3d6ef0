#!/bin/sh
# Assembles an SD-card image from a root file system made by build-rootfs.sh, with no loop
# devices or mounts: a FAT boot partition (firmware, kernel, config.txt, cmdline.txt and the
# first-boot examples), the ext4 root (read-only at run time, overlayroot), and a small ext4
# data partition for /var/lib/intercom and /etc/intercom (configuration, history, event log).
#
#   deploy/image/assemble-image.sh ROOTFS OUT.img
#
# Needs dosfstools, mtools, e2fsprogs and fdisk (sfdisk).
set -eu

ROOTFS=${1:?usage: assemble-image.sh ROOTFS OUT.img}
OUT=${2:?usage: assemble-image.sh ROOTFS OUT.img}
HERE=$(cd "$(dirname "$0")" && pwd)
BOOT_MB=${BOOT_MB:-256}
DATA_MB=${DATA_MB:-256}
SLACK_MB=${SLACK_MB:-300}   # free room on the root partition

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Boot partition: what raspi-firmware put in /boot/firmware, then ours.
mkfs.vfat -n RASPIFIRM -C "$WORK/boot.img" $((BOOT_MB * 1024)) >/dev/null
if [ -n "$(ls -A "$ROOTFS/boot/firmware" 2>/dev/null)" ]; then
    mcopy -s -i "$WORK/boot.img" "$ROOTFS"/boot/firmware/* ::/
fi
for f in config.txt cmdline.txt intercom.toml.example meta-data user-data.example network-config.example; do
    mcopy -o -i "$WORK/boot.img" "$HERE/boot/$f" ::/
done

# Data partition: the configuration folder (bound over /etc/intercom) and the state.
mkdir -p "$WORK/data/etc" "$WORK/data/station" "$WORK/data/exchange"
cp -a "$ROOTFS/etc/intercom/." "$WORK/data/etc/" 2>/dev/null || true
owner=$(stat -c %u:%g "$ROOTFS/var/lib/intercom")
group=$(stat -c %g "$ROOTFS/etc/intercom")
chown "$owner" "$WORK/data" "$WORK/data/station" "$WORK/data/exchange"
chown "0:$group" "$WORK/data/etc"
chmod 0750 "$WORK/data" "$WORK/data/etc" "$WORK/data/station" "$WORK/data/exchange"
mke2fs -q -t ext4 -L INTERCOMDATA -d "$WORK/data" "$WORK/data.img" "${DATA_MB}M"

# Root partition: the tree as built; the image's fstab (mounting the other two) is written
# into the file system afterwards, so that the tree stays bootable under systemd-nspawn.
cp "$ROOTFS/etc/fstab" "$WORK/fstab"
cat >> "$WORK/fstab" <<'EOF'
LABEL=RASPIFIRM     /boot/firmware     vfat  defaults,noatime,umask=0077  0 2
LABEL=INTERCOMDATA  /var/lib/intercom  ext4  defaults,noatime,commit=5     0 2
/var/lib/intercom/etc  /etc/intercom   none  bind,x-systemd.requires-mounts-for=/var/lib/intercom  0 0
EOF
root_mb=$(( $(du -sm "$ROOTFS" | cut -f1) + SLACK_MB ))
mke2fs -q -t ext4 -L RASPIROOT -d "$ROOTFS" "$WORK/root.img" "${root_mb}M"
debugfs -w -R "rm /etc/fstab" "$WORK/root.img" >/dev/null 2>&1
debugfs -w -R "write $WORK/fstab /etc/fstab" "$WORK/root.img" >/dev/null 2>&1

# One disk: 4 MiB alignment, MBR (what the Pi's boot ROM reads).
start=8192
boot_sectors=$((BOOT_MB * 2048))
root_sectors=$((root_mb * 2048))
data_sectors=$((DATA_MB * 2048))
total=$((start + boot_sectors + root_sectors + data_sectors + 2048))
truncate -s $((total * 512)) "$OUT"
sfdisk -q "$OUT" <<EOF
label: dos
start=$start, size=$boot_sectors, type=c, bootable
start=$((start + boot_sectors)), size=$root_sectors, type=83
start=$((start + boot_sectors + root_sectors)), size=$data_sectors, type=83
EOF
dd if="$WORK/boot.img" of="$OUT" bs=512 seek=$start conv=notrunc,sparse status=none
dd if="$WORK/root.img" of="$OUT" bs=512 seek=$((start + boot_sectors)) conv=notrunc,sparse status=none
dd if="$WORK/data.img" of="$OUT" bs=512 seek=$((start + boot_sectors + root_sectors)) conv=notrunc,sparse status=none
echo "image ready: $OUT ($((total / 2048)) MiB)"
