# LibTorch: which modules use it, found lazily, compiled with a shared precompiled header.

# metadial_module_uses_torch(<module> <out-var>): <out-var> is TRUE when <module> (a folder path
# relative to src/, tests/ or bench/, e.g. "optim/learned" or "optim/learned/detail") is one of
# METADIAL_TORCH_MODULES (top-level CMakeLists.txt) or lies inside one, FALSE otherwise.
function(metadial_module_uses_torch module out)
  set(_uses FALSE)
  foreach(_m IN LISTS METADIAL_TORCH_MODULES)
    if(module STREQUAL _m OR module MATCHES "^${_m}/")
      set(_uses TRUE)
      break()
    endif()
  endforeach()
  set(${out} ${_uses} PARENT_SCOPE)
endfunction()

# A target that needs torch calls metadial_use_torch(<target>): it links torch and reuses the
# precompiled <torch/torch.h> (cmake/torch_pch.h), so the heavy header is parsed once per
# build configuration, not once per translation unit. Targets that do not call it never see torch.
function(metadial_use_torch target)
  if(NOT TARGET torch)
    find_package(Torch REQUIRED)
  endif()
  target_link_libraries(${target} PRIVATE torch)
  # Torch's headers trip -Wshadow / -Wold-style-cast; they are system headers for us.
  get_target_property(_inc torch INTERFACE_INCLUDE_DIRECTORIES)
  if(_inc)
    target_include_directories(${target} SYSTEM PRIVATE ${_inc})
  endif()
  if(NOT TARGET metadial_torch_pch)
    add_library(metadial_torch_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp)
    target_link_libraries(metadial_torch_pch PUBLIC torch PRIVATE metadial_warnings)
    # REUSE_FROM needs the same flags on both sides; -Winvalid-pch makes a mismatch visible.
    target_compile_options(metadial_torch_pch PUBLIC -Winvalid-pch)
    target_precompile_headers(metadial_torch_pch PUBLIC ${PROJECT_SOURCE_DIR}/cmake/torch_pch.h)
  endif()
  target_precompile_headers(${target} REUSE_FROM metadial_torch_pch)
endfunction()
