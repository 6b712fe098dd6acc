// The user's `promptd.*` settings -> the server's `promptd` section (lsp/protocol.py):
// {promptd: {engine, model, diagnostics: {enabled, severity}, detection: {minWords}, codeLens}}.
// Every key is sent with its effective value, so removing a setting resets it on the server
// (the server keeps the previous value for an absent key). Bad values are replaced by the
// default and reported, the way the server treats them. No `vscode` import: unit-tested.

import { SETTINGS_SECTION } from "./constants";

export type Engine = "" | "offline" | "llm";
export type Severity = "auto" | "error" | "warning" | "information" | "hint";
export type TargetModel = "" | "grok" | "gpt" | "claude" | "llama" | "generic";

export interface ServerSettings {
  engine: Engine;
  model: string;
  diagnostics: { enabled: boolean; severity: Severity };
  detection: { minWords: number };
  codeLens: boolean;
  targetModel: TargetModel;
  trimMaxTokens: number;
}

export interface Mapped {
  /** The payload for initializationOptions / didChangeConfiguration `settings`. */
  settings: { [SETTINGS_SECTION]: ServerSettings };
  /** One line per bad value: what is wrong and what is used instead. */
  problems: string[];
}

/** The server's defaults (lsp/features/settings.py); package.json mirrors them. */
export const DEFAULTS: ServerSettings = {
  engine: "",
  model: "",
  diagnostics: { enabled: true, severity: "auto" },
  detection: { minWords: 12 },
  codeLens: true,
  targetModel: "",
  trimMaxTokens: 0,
};

const ENGINES: readonly Engine[] = ["", "offline", "llm"];
const TARGETS: readonly TargetModel[] = ["", "grok", "gpt", "claude", "llama", "generic"];
const SEVERITIES: readonly Severity[] = ["auto", "error", "warning", "information", "hint"];

/** Reads one setting by its key under `promptd.` (e.g. "diagnostics.enabled"). */
export type Getter = (key: string) => unknown;

/** Map the settings that `get` reads into the server's section. */
export function toServerSettings(get: Getter): Mapped {
  const problems: string[] = [];

  function pick<T>(key: string, ok: (value: unknown) => value is T, fallback: T, want: string): T {
    const value = get(key);
    if (value === undefined || value === null) {
      return fallback;
    }
    if (ok(value)) {
      return value;
    }
    problems.push(
      `setting promptd.${key} must be ${want} (got ${JSON.stringify(value)}); ` +
        `using ${JSON.stringify(fallback)}`,
    );
    return fallback;
  }

  const isEngine = (v: unknown): v is Engine => typeof v === "string" && ENGINES.includes(v as Engine);
  const isSeverity = (v: unknown): v is Severity =>
    typeof v === "string" && SEVERITIES.includes(v as Severity);
  const isString = (v: unknown): v is string => typeof v === "string";
  const isBool = (v: unknown): v is boolean => typeof v === "boolean";
  const isTarget = (v: unknown): v is TargetModel =>
    typeof v === "string" && TARGETS.includes(v as TargetModel);
  const isBudget = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 1000000;
  const isWords = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 10000;

  const settings: ServerSettings = {
    engine: pick("engine", isEngine, DEFAULTS.engine, "one of offline, llm or empty"),
    model: pick("model", isString, DEFAULTS.model, "a model name").trim(),
    diagnostics: {
      enabled: pick("diagnostics.enabled", isBool, DEFAULTS.diagnostics.enabled, "true or false"),
      severity: pick(
        "diagnostics.severity",
        isSeverity,
        DEFAULTS.diagnostics.severity,
        "one of auto, error, warning, information, hint",
      ),
    },
    detection: {
      minWords: pick(
        "detection.minWords",
        isWords,
        DEFAULTS.detection.minWords,
        "a whole number from 1 to 10000",
      ),
    },
    codeLens: pick("codeLens", isBool, DEFAULTS.codeLens, "true or false"),
    targetModel: pick(
      "targetModel",
      isTarget,
      DEFAULTS.targetModel,
      "one of grok, gpt, claude, llama, generic or empty",
    ),
    trimMaxTokens: pick(
      "trimMaxTokens",
      isBudget,
      DEFAULTS.trimMaxTokens,
      "a whole number from 0 to 1000000 (0: cut all filler)",
    ),
  };
  return { settings: { [SETTINGS_SECTION]: settings }, problems };
}

/** Settings keys whose change must reach the server (all but the extension's `path`). */
export const SERVER_KEYS = [
  "engine",
  "model",
  "diagnostics.enabled",
  "diagnostics.severity",
  "detection.minWords",
  "codeLens",
  "targetModel",
  "trimMaxTokens",
] as const;
