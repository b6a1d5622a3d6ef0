#!/bin/bash -e
# In the image: a venv that also sees apt's libcamera and picamera2.
python3 -m venv --system-site-packages /opt/intercom/venv
/opt/intercom/venv/bin/pip install --only-binary=:all: /opt/intercom/wheels/intercom-*.whl
rm -rf /opt/intercom/wheels /root/.cache/pip
systemd-sysusers
chown root:intercom /etc/intercom && chmod 0750 /etc/intercom
chown intercom:intercom /var/lib/intercom && chmod 0750 /var/lib/intercom
systemctl enable intercom-firstboot.service intercom-station.service
