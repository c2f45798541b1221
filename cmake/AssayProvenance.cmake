# Build provenance compiled into the binary: version, git sha (+dirty), compiler and flags.
# The git sha is refreshed at every build by a tiny script so that a rebuilt binary never lies.
string(TOUPPER "${CMAKE_BUILD_TYPE}" _assay_bt)
set(ASSAY_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
set(ASSAY_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_assay_bt}}")
string(STRIP "${ASSAY_CXX_FLAGS}" ASSAY_CXX_FLAGS)
set(ASSAY_PROVENANCE_HPP "${PROJECT_BINARY_DIR}/generated/assay_build_info.hpp")
add_custom_target(assay_build_info
  COMMAND ${CMAKE_COMMAND}
          -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${ASSAY_PROVENANCE_HPP}
          -DVERSION=${PROJECT_VERSION} -DCOMPILER=${ASSAY_COMPILER}
          -DFLAGS=${ASSAY_CXX_FLAGS} -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
          -DCUDA=${ASSAY_HAVE_CUDA} -DSANITIZE=${ASSAY_SANITIZE}
          -P ${PROJECT_SOURCE_DIR}/cmake/write_build_info.cmake
  BYPRODUCTS ${ASSAY_PROVENANCE_HPP}
  COMMENT "Recording build provenance")
