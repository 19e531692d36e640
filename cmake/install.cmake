# `cmake --install <build> --prefix <p>` puts in place:
#   <p>/include/metadial/...                    the public headers
#   <p>/lib/libmetadial.a, libmetadial_torch.a  the libraries (the second one only with LibTorch)
#   <p>/lib/cmake/metadial/                     metadialConfig.cmake, its version file, the targets
#   <p>/bin/metadial                            the command-line program
# so that a CMake project can use
#   find_package(metadial 0.1 REQUIRED)                      # metadial::metadial (no LibTorch)
#   find_package(metadial 0.1 REQUIRED COMPONENTS torch)     # also metadial::metadial_torch
# (tests/install/install_test.sh builds examples/cpp-consumer against a fresh install).
include(CMakePackageConfigHelpers)
set(METADIAL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/metadial)

# Headers: all of include/metadial, less the LibTorch modules' folders when those are not built.
set(_exclude "")
if(NOT TARGET metadial_torch)
  foreach(_m IN LISTS METADIAL_TORCH_MODULES)
    list(APPEND _exclude REGEX "/include/metadial/${_m}(/|$)" EXCLUDE)
  endforeach()
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/metadial DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT devel FILES_MATCHING PATTERN "*.h" ${_exclude})

install(TARGETS metadial EXPORT metadialTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
install(EXPORT metadialTargets NAMESPACE metadial:: DESTINATION ${METADIAL_INSTALL_CMAKEDIR}
        FILE metadialTargets.cmake COMPONENT devel)
if(TARGET metadial_torch)
  # A separate export set, so that find_package(metadial) without the torch component does not
  # have to find LibTorch.
  install(TARGETS metadial_torch EXPORT metadialTorchTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
  install(EXPORT metadialTorchTargets NAMESPACE metadial:: DESTINATION ${METADIAL_INSTALL_CMAKEDIR}
          FILE metadialTorchTargets.cmake COMPONENT devel)
endif()
install(TARGETS metadial_exe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/metadialConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/metadialConfig.cmake
                              INSTALL_DESTINATION ${METADIAL_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/metadialConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/metadialConfig.cmake ${PROJECT_BINARY_DIR}/metadialConfigVersion.cmake
        DESTINATION ${METADIAL_INSTALL_CMAKEDIR} COMPONENT devel)
