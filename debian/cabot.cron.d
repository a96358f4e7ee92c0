# cabot: run the due checks every minute, on machines without systemd. Where systemd runs,
# cabot.timer does it instead and this line does nothing.
SHELL=/bin/sh
PATH=/usr/bin:/bin
* * * * * cabot [ -d /run/systemd/system ] || /usr/bin/cabot -c /etc/cabot/checks.yaml run -q
