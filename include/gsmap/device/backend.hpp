#pragma once
// Backend selection (docs/troubleshooting.md "GPU not used"): --use-gpu (the default) runs the
// compute stages on the CUDA backend when it is built and a device is visible, otherwise on the CPU
// with one warning line; --no-gpu forces the CPU. Everything here also builds without CUDA.
namespace gsmap::device {

// True when this binary contains the CUDA backend (GSMAP_CUDA=AUTO found nvcc, or ON).
bool cuda_built();

// Number of CUDA devices this process can use; 0 without the CUDA backend or on any CUDA error
// (no driver, no device, CUDA_VISIBLE_DEVICES empty).
int visible_gpus();

// Whether the compute stages run on the GPU: `use_gpu_option` (--use-gpu / --no-gpu) and the CUDA
// backend built and a device visible. When the option asks for the GPU but none is usable, logs
// one warning per process ("--use-gpu: no CUDA device visible (or built without CUDA); running on
// the CPU") and returns false. Never throws.
bool use_cuda(bool use_gpu_option);

// Makes `device` this process's GPU (the lead passes dist::local_placement(...).device, i.e.
// local rank modulo visible_gpus()). CUDA binds the current device per host thread, so the
// device classes (GssDevice, LdscDevice) re-apply this choice in every thread that uses them.
// Throws ComputeError if the device cannot be selected; a no-op without the CUDA backend.
void select_device(int device);

// The device chosen by select_device (0 before any call).
int selected_device();

}  // namespace gsmap::device
