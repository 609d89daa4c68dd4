// The Python module pyframegan._C: the C++ Interpolator and build information (the ops register
// themselves with TORCH_LIBRARY when this library is loaded and are called through
// torch.ops.pyframegan.*).
#include <torch/extension.h>

#include "engine/interpolator.h"
#include "ops/checks.h"

#ifdef WITH_CUDA
#include <cuda.h>
#endif

#ifndef PYFRAMEGAN_TORCH_VERSION
#define PYFRAMEGAN_TORCH_VERSION "unknown"
#endif

namespace py = pybind11;
using pyframegan::Interpolator;

namespace {

void bind_interpolator(py::module_& m) {
  // Python exception types: a missing file is a FileNotFoundError, a file that is not a model a ValueError.
  py::register_exception<pyframegan::ModelNotFoundError>(m, "ModelNotFoundError", PyExc_FileNotFoundError);
  py::register_exception<pyframegan::InvalidModelError>(m, "InvalidModelError", PyExc_ValueError);

  m.attr("MIN_SIDE") = Interpolator::kMinSide;
  m.attr("MAX_SIDE") = pyframegan::kMaxSide;  // the largest image / tile side an op takes (ops/checks.h)
  m.def("read_metadata", [](const std::string& path) { return pyframegan::read_metadata(path).json; },
        py::arg("path"),
        "the metadata (pyframegan.json) of the exported model at path, checked, as JSON text; "
        "FileNotFoundError / ValueError saying what is wrong (the engine's one reader)");  // the smallest frame side the engine takes
  py::class_<Interpolator>(m, "Interpolator",
                           "An exported pyframegan generator loaded in C++: run(a, b) interpolates between "
                           "uint8 frames (see csrc/engine/interpolator.h).")
      .def(py::init<const std::string&, const std::string&, at::ScalarType>(), py::arg("model_path"),
           py::arg("device") = "cpu", py::arg("dtype") = at::kFloat)
      .def(py::init<const std::string&, c10::Device, at::ScalarType>(), py::arg("model_path"), py::arg("device"),
           py::arg("dtype") = at::kFloat)
      .def("run", &Interpolator::run, py::arg("a"), py::arg("b"), py::call_guard<py::gil_scoped_release>(),
           "uint8 [B, H, W, 3] (or [H, W, 3]) frames a and b -> uint8 [B, n_out, H, W, 3] (or [n_out, H, W, 3]) "
           "on the CPU: the frames between each pair, in time order. Releases the GIL while it runs.")
      .def("run_at", &Interpolator::run_at, py::arg("a"), py::arg("b"), py::arg("times"),
           py::call_guard<py::gil_scoped_release>(),
           "like run, but the frames at the given times (each in (0, 1)) instead of the model's n_out: "
           "uint8 [B, len(times), H, W, 3]; flow generators only (any_times)")
      .def("run_context", &Interpolator::run_context, py::arg("a"), py::arg("b"), py::arg("before"),
           py::arg("after"), py::arg("times") = std::vector<double>{}, py::call_guard<py::gil_scoped_release>(),
           "like run (or run_at, given times), with context: before is the frame as far before a as b is "
           "after it, after likewise after b; generators that use context only (context)")
      .def_property_readonly("any_times", &Interpolator::any_times)
      .def_property_readonly("context", &Interpolator::context)
      .def_property_readonly("n_in", &Interpolator::n_in)
      .def_property_readonly("n_out", &Interpolator::n_out)
      .def_property_readonly("multiple", &Interpolator::multiple)
      .def_property_readonly("device", &Interpolator::device)
      .def_property_readonly("dtype", &Interpolator::dtype)
      .def_property_readonly("fused_post_op", &Interpolator::fused_post_op)
      .def_property_readonly("model_path", &Interpolator::model_path)
      .def_property_readonly("metadata_json", [](const Interpolator& self) { return self.metadata().json; },
                             "the model's pyframegan.json, as stored")
      .def("__repr__", [](const Interpolator& self) {
        return c10::str("pyframegan._C.Interpolator('", self.model_path(), "', device='", self.device(),
                        "', dtype=", self.dtype(), ", n_out=", self.n_out(), ")");
      });
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "pyframegan native extension: fused frame-strip ops and the inference engine";
  m.def("build_info", [] {
    py::dict info;
    info["torch_version"] = PYFRAMEGAN_TORCH_VERSION;
#ifdef WITH_CUDA
    info["cuda"] = true;
    info["cuda_version"] = CUDA_VERSION;
#else
    info["cuda"] = false;
    info["cuda_version"] = py::none();
#endif
    return info;
  });
  bind_interpolator(m);
}
