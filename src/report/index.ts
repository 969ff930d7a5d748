// Public surface of the static report.
export { writeReport, renderReportHtml, buildBundle, ReportError, type ReportOptions } from './html.js';
export { OutRefused } from './errors.js';
export { checkReportOut, REPORT_GENERATOR } from './out.js';
export { writePngs, pngTargets, chromiumPath, PLOTS, DEFAULT_CHROMIUM, CHROMIUM_ARGS, type PngOptions } from './png.js';
