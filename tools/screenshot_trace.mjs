// Open one trace in the Spotlight UI with headless Chromium and save a screenshot of it.
// Usage: node screenshot_trace.mjs SPOTLIGHT_URL TRACE_ID OUTPUT.png CHROMIUM_PATH
import { chromium } from "playwright-core";

const [spotlight, traceId, output, executablePath] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(`${spotlight}/telemetry/traces/${traceId}`);
  // The waterfall is drawn once the UI has read the trace from the sidecar's event stream.
  await page.locator(".tree").first().waitFor({ timeout: 30000 });
  // Open every folded branch of the span tree (their arrow points down until opened).
  const folded = page.locator(".tree div.bg-primary-600:has(svg:not(.rotate-180))");
  for (let round = 0; round < 10 && (await folded.count()) > 0; round++) {
    await folded.first().click();
  }
  await page.mouse.move(0, 0);
  for (const op of ["checkout.pricing", "payment.charge", "email.send"]) {
    await page.getByText(op, { exact: true }).first().waitFor({ timeout: 10000 });
  }
  await page.screenshot({ path: output });
} finally {
  await browser.close();
}
