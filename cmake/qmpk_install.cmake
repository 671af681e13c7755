# Installed package: CMake config (find_package(qmpkit)) and pkg-config.
include(CMakePackageConfigHelpers)
install(EXPORT qmpkitTargets NAMESPACE qmpkit::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qmpkit)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/qmpkitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/qmpkitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qmpkit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/qmpkitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/qmpkitConfig.cmake
              ${PROJECT_BINARY_DIR}/qmpkitConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qmpkit)
set(QMPK_PC_LIBS "-lqmpkit_parser")
if(TARGET qmpkit_engine)
  set(QMPK_PC_LIBS "-lqmpkit_engine ${QMPK_PC_LIBS}")
endif()
# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install --prefix DIR` works without reconfiguring.
file(RELATIVE_PATH QMPK_PC_UP ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" QMPK_PC_UP "${QMPK_PC_UP}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/qmpkit.pc.in ${PROJECT_BINARY_DIR}/qmpkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/qmpkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
