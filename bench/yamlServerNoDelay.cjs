// Starts yaml-language-server exactly as its bin script does, but with its fixed 200 ms validation delay
// (SettingsState.validationDelayMs, which no setting changes) replaced by YAML_LS_VALIDATION_DELAY_MS (default 0).
// The benchmark runs EmbedTune's server with debounceMs 0, so this is the like-for-like yaml-language-server:
// the same code, validating as soon as a change arrives. Nothing else is changed.
'use strict';

const { SettingsState } = require('yaml-language-server/out/server/src/yamlSettings.js');

const delay = Number(process.env.YAML_LS_VALIDATION_DELAY_MS ?? 0);
Object.defineProperty(SettingsState.prototype, 'validationDelayMs', {
  configurable: true,
  get() {
    return delay;
  },
  set() {
    // The constructor assigns 200; ignore it.
  },
});

process.env.YAML_LANGUAGE_SERVER_VERSION = require('yaml-language-server/package.json').version;
require('yaml-language-server/out/server/src/server.js');
