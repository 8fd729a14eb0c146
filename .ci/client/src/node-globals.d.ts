// The two Node globals the lifecycle uses, declared here so the dependency list stays at the four
// packages CI needs (no @types/node). fetch, Response, URL and console come from lib "DOM".
declare const process: {
  readonly argv: readonly string[];
  exitCode: number | undefined;
};
