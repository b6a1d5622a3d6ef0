#!/bin/bash -e
# Read-only root in RAM over the card (overlayroot), the data partition stays writable.
sed -i 's/$/ overlayroot=tmpfs:recurse=0/' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"
grep -q '^dtparam=watchdog=on' "${ROOTFS_DIR}/boot/firmware/config.txt" \
	|| echo 'dtparam=watchdog=on' >> "${ROOTFS_DIR}/boot/firmware/config.txt"
