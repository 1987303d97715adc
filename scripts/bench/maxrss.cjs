// Preloaded (node --require) into a measured process: writes its peak RSS (KiB) to $IH_MAXRSS_FILE at exit.
process.on('exit', () => { if (process.env.IH_MAXRSS_FILE) require('fs').writeFileSync(process.env.IH_MAXRSS_FILE, String(process.resourceUsage().maxRSS)); });
