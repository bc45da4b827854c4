// A shared library named libcairo.so.2 that has none of cairo's functions, for
// integration.report_without_cairo (tests/integration/report.cmake).
extern "C" int gsmap_not_cairo() { return 0; }
