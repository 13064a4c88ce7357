// Types of scripts/headless.mjs for the TypeScript e2e helpers.
export declare const CHROME_PATH: string;
export declare const CHROMIUM_ARGS: readonly string[];
export declare const WEBGPU_MESSAGE: RegExp;
export declare function startDemoServer(options?: { headers?: Record<string, string> }): Promise<{
  url: string;
  server: { listen(): Promise<unknown>; close(): Promise<void> };
  close(): Promise<void>;
}>;
