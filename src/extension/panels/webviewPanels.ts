import * as vscode from 'vscode';
import type { PanelOpener } from '../host/editorHost';
import type { MonitoringServices } from '../monitoring/activateMonitoring';
import { LabPanel, workspaceLabMemory } from '../lab/labPanel';
import { CheckpointsPanel } from './checkpointsPanel';
import { DashboardPanel } from './dashboardPanel';

/** Opens the webview panels, and registers the serializers that restore them after a window reload. */
export function createWebviewPanels(context: vscode.ExtensionContext, services: () => MonitoringServices): PanelOpener {
  const { extensionUri } = context;
  LabPanel.memory = workspaceLabMemory(context.workspaceState);
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
      deserializeWebviewPanel: async (panel) => DashboardPanel.revive(panel, extensionUri, services()),
    }),
    vscode.window.registerWebviewPanelSerializer(CheckpointsPanel.viewType, {
      deserializeWebviewPanel: async (panel) => CheckpointsPanel.revive(panel, extensionUri, services()),
    }),
    vscode.window.registerWebviewPanelSerializer(LabPanel.viewType, {
      deserializeWebviewPanel: async (panel) => LabPanel.revive(panel, extensionUri, services()),
    }),
    {
      dispose: () => {
        DashboardPanel.currentPanel?.dispose();
        CheckpointsPanel.currentPanel?.dispose();
        LabPanel.currentPanel?.dispose();
      },
    },
  );
  return {
    showDashboard: (key, compare) => DashboardPanel.createOrShow(extensionUri, services(), key, compare),
    showCheckpoints: (key) => CheckpointsPanel.createOrShow(extensionUri, services(), key),
    showLab: (key) => LabPanel.createOrShow(extensionUri, services(), key),
  };
}
