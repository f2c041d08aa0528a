# Shell functions the end-to-end scripts share; source it after defining
# say() and policy_guard= (which their cleanup removes on exit).

# install_package installs Debian's package $1 without starting or enabling
# the system service it ships: the scripts run their own instances, on
# loopback ports of their choosing.
install_package() {
	local pkg=$1
	if [ "$(id -u)" != 0 ]; then
		say "$pkg is not installed; run as root, or: apt-get install $pkg" >&2
		exit 1
	fi
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_guard=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "$pkg"; then
		apt-get update
		apt-get install -y --no-install-recommends "$pkg"
	fi
	if command -v deb-systemd-helper >/dev/null; then deb-systemd-helper disable "$pkg.service" >/dev/null 2>&1 || true; fi
	update-rc.d "$pkg" disable >/dev/null 2>&1 || true
	if [ -n "$policy_guard" ]; then rm -f /usr/sbin/policy-rc.d; policy_guard=; fi
}
