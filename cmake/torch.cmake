# LibTorch: found lazily, compiled with a shared precompiled header.
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
