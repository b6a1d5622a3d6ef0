#!/bin/bash -e
# On the build host: the wheel, units and drop-ins into the image.
install -d "${ROOTFS_DIR}/opt/intercom/wheels" "${ROOTFS_DIR}/etc/intercom" "${ROOTFS_DIR}/var/lib/intercom"
install -m 0644 files/intercom-*.whl "${ROOTFS_DIR}/opt/intercom/wheels/"
install -m 0644 files/*.service "${ROOTFS_DIR}/etc/systemd/system/"
install -D -m 0644 files/intercom.conf "${ROOTFS_DIR}/usr/lib/sysusers.d/intercom.conf"
install -D -m 0644 files/60-intercom-devices.rules "${ROOTFS_DIR}/etc/udev/rules.d/60-intercom-devices.rules"
install -D -m 0644 files/intercom-volatile.conf "${ROOTFS_DIR}/etc/systemd/journald.conf.d/intercom-volatile.conf"
install -D -m 0644 files/intercom-watchdog.conf "${ROOTFS_DIR}/etc/systemd/system.conf.d/intercom-watchdog.conf"
install -m 0644 files/intercom.toml.example "${ROOTFS_DIR}/boot/firmware/"
