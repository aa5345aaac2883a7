import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  server: {
    // Previews are served at <id>.preview.localhost:<port> through a proxy: accept any Host.
    allowedHosts: true,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.js"],
  },
});
