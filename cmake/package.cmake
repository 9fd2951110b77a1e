# `cpack -G DEB` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr: a Debian
# package of what `cmake --install` puts in place, its library dependencies found by
# dpkg-shlibdeps, /etc/wspush/wspush.json a conffile (the admin's edits survive
# upgrades).
set(CPACK_PACKAGE_NAME wspush)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "wspush developers <wspush@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WebSocket push server with rooms, and its clients")
set(CPACK_PACKAGE_DESCRIPTION
    "wspush serve runs a WebSocket push server with rooms, history and resume,\n TLS, JWT, Prometheus metrics; wspush client, publish and bench script and\n load-test it.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/wspush")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
include(CPack)
