"""The main window: assembles the panels, docks, toolbar and menus and routes
the controller's signals to them.  It holds no training logic: edits go through
the ``ProjectKeeper``, training through the ``TrainingController`` API, files
through ``Documents``.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QDockWidget, QLineEdit,
                               QMainWindow, QTabWidget, QVBoxLayout, QWidget)

from playground.worker import TrainingController
from ui.app_undo import AppUndo
from ui.help import GuideDialog, show_about
from ui.editor.widget import NetworkEditor
from ui.editor_link import EditorLink
from ui.network_view import NetworkView
from ui.panels.data_panel import DataPanel
from ui.documents import Documents, PathChooser
from ui.menus import build_menus
from ui.panels.messages import show_error
from ui.project_keeper import ProjectKeeper
from ui.settings import AppSettings
from ui.status import DivergenceBanner, TrainingStatus
from ui.toolbar import TrainingToolbar
from ui.panels.training_panel import TrainingPanel
from ui.panels.race_panel import RacePanel
from ui.panels.why_panel import WhyPanel
from ui.plots.boundary_plot import BoundaryPlot
from ui.plots.gradients_plot import GradientsPlot
from ui.plots.loss_plot import LossPlot
from ui.plots.pacing import Pacer
from ui.plots.weights_plot import WeightsPlot
from ui.plots.outcomes_view import OutcomesPlot
from ui.race_badge import RaceBadge
from ui.recovery import Autosave, Prompter
from ui.text_zoom import TextZoom, ZoomableDock
from ui.teaching_tabs import TeachingTabs
from ui.theme import apply_theme
from ui.weight_edits import WeightEdits
from ui.window_layout import MAX_DEFAULT, DockLayout, PanelScroll

# Qt's own child buttons and editors, named here so assistive tools can announce them.
_INTERNAL_NAMES = {"qt_dockwidget_closebutton": ("Close panel", "Hide this panel (View menu brings it back)"),
                   "qt_dockwidget_floatbutton": ("Float panel", "Detach this panel into its own window"),
                   "qt_toolbar_ext_button": ("More controls", "Show the toolbar controls that do not fit"),
                   "qt_menubar_ext_button": ("More menus", "Show the menus that do not fit"),
                   "ScrollLeftButton": ("Scroll tabs left", "Show the tabs hidden on the left"),
                   "ScrollRightButton": ("Scroll tabs right", "Show the tabs hidden on the right")}


class MainWindow(QMainWindow):
    def __init__(self, project, controller: TrainingController | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("NN Playground")
        self.controller = controller or TrainingController(self)
        self.settings = AppSettings(settings)
        self.keeper = ProjectKeeper(self.controller, self)
        self.frames_received = 0
        self._last_step = -1
        self._guide = None

        self.network_view = NetworkView()
        self.editor = NetworkEditor()
        self.banner = DivergenceBanner()
        # The neuron view (live weights and heatmaps) and the graph editor show the
        # same network; the editor is where it is drawn.
        self.views = QTabWidget()
        self.views.setAccessibleName("Network views")
        self.views.setToolTip("Neurons: the live network. Graph editor: draw the network by drag and drop.")
        self.views.addTab(self.network_view, "Neurons")
        self.views.addTab(self.editor, "Graph editor")
        self.why_panel = WhyPanel()
        self.views.addTab(self.why_panel, "Why? (chain rule)")
        self.race_panel = RacePanel()
        self.views.addTab(self.race_panel, "Race optimisers")
        self.teaching = TeachingTabs(self.views, after=self.views.indexOf(self.why_panel))
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner)
        column.addWidget(self.views, 1)
        self.setCentralWidget(central)

        self.data_panel, self.training_panel = DataPanel(), TrainingPanel()
        self.boundary, self.loss_plot = BoundaryPlot(), LossPlot()
        self.outcomes = OutcomesPlot()
        self.weights_plot, self.gradients_plot = WeightsPlot(), GradientsPlot()
        self.plots = (self.loss_plot, self.weights_plot, self.gradients_plot)
        # Two draw groups of about equal cost: the neuron view alone, and the plots.
        self.pacer = Pacer(((self.network_view,), (self.boundary, self.outcomes, *self.plots)), self)
        self._build_docks()
        # Results measured from one step's weights: marked when training moves on,
        # cleared for a new network or fresh weights.
        self.result_panels = (self.why_panel, self.training_panel, self.race_panel, *self.teaching.result_panels)
        self.toolbar = TrainingToolbar(self.controller, self)
        self.addToolBar(Qt.TopToolBarArea, self.toolbar)
        # One history for project edits and weight edits; the graph editor keeps its own.
        self.undo = AppUndo(self.keeper, self.controller, self.editor, self)
        self.undo.pass_committed_boxes((self.data_panel, self.training_panel))
        self.weight_edits = WeightEdits(self.network_view, self.controller, self.undo, self.why_panel, self)
        self.status = TrainingStatus(self.statusBar())
        self.race_badge = RaceBadge()
        self.statusBar().insertPermanentWidget(0, self.race_badge)
        # Tests replace documents.chooser to bypass the native file dialogs.
        self.documents = Documents(self, self.keeper, self.controller, self.settings,
                                   {"output": self.boundary, "loss": self.loss_plot, "weights": self.weights_plot,
                                    "gradients": self.gradients_plot, "network": self.network_view},
                                   PathChooser(self))
        self.prompter = Prompter(self)       # tests replace it to answer without dialogs
        self.autosave = Autosave(self.keeper, self.settings.q.fileName(), parent=self)
        self.editor_link = EditorLink(self.editor, self.keeper, self.controller, (self.toolbar.play_action,),
                                      self.statusBar(), self)
        self.text_zoom = TextZoom(self, self.settings)
        # After the layout has taken the new font (a posted event), the panels get their width.
        self.text_zoom.changed.connect(lambda _: QTimer.singleShot(0, self.dock_layout.fit_panel_widths))
        build_menus(self)
        self._connect()
        self.keeper.load(project)           # first: the panels' sizes decide the docks' layout
        self._restore_settings()
        self.name_internal_controls()

    # -- assembly ------------------------------------------------------------------------
    def _dock(self, key: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = ZoomableDock(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        self.docks: dict[str, QDockWidget] = {}
        for corner, area in ((Qt.TopLeftCorner, Qt.LeftDockWidgetArea), (Qt.BottomLeftCorner, Qt.LeftDockWidgetArea),
                             (Qt.TopRightCorner, Qt.RightDockWidgetArea),
                             (Qt.BottomRightCorner, Qt.RightDockWidgetArea)):
            self.setCorner(corner, area)
        self._dock("data", "Data", PanelScroll(self.data_panel), Qt.LeftDockWidgetArea)
        self._dock("output", "Output over the input plane", self.boundary, Qt.RightDockWidgetArea)
        self._dock("outcomes", "Outcomes", self.outcomes, Qt.RightDockWidgetArea)
        self._dock("training", "Training", PanelScroll(self.training_panel), Qt.RightDockWidgetArea)
        for key, title, plot in (("loss", "Loss", self.loss_plot),
                                 ("weights", "Weight histograms per layer", self.weights_plot),
                                 ("gradients", "Gradient norm per layer", self.gradients_plot)):
            self._dock(key, title, plot, Qt.BottomDockWidgetArea)
        self.dock_layout = DockLayout(self, self.docks)

    def _connect(self) -> None:
        c = self.controller
        # Weights loaded by hand keep the step number: results measured before are cleared.
        c.reset_requested.connect(self._clear_results)
        c.frame_ready.connect(self._on_frame)
        c.session_changed.connect(self._on_session)
        c.diverged.connect(self._on_diverged)
        self.keeper.changed.connect(self._show_project)
        self.keeper.failed.connect(lambda message: show_error(self, "That change was not applied", message))
        self.keeper.dirty_changed.connect(lambda _: self._update_title())
        for panel in (self.data_panel, self.training_panel):
            panel.rebuild_requested.connect(self.keeper.rebuild)
        self.training_panel.learning_rate_requested.connect(self.keeper.set_learning_rate)
        self.training_panel.optimizer_requested.connect(self.keeper.set_optimizer)
        self.training_panel.schedule_requested.connect(self.keeper.set_schedule)
        self.network_view.network_edited.connect(lambda network: self.keeper.rebuild({"network": network}, False))
        # A weight set by hand keeps the step number, so results measured before it are cleared.
        self.weight_edits.edited.connect(self._clear_results)
        self.network_view.editor_requested.connect(lambda: self.views.setCurrentWidget(self.editor))
        # Points clicked on or off the output map keep the weights: watch the network adapt.
        self.boundary.data_edit_requested.connect(lambda data: self.keeper.rebuild({"data": data}, True))
        self.keeper.changed.connect(self.boundary.show_project)
        self.boundary.plane_requested.connect(c.set_plane)
        # Output map and outcomes share a place: the one brought up draws what it has at once.
        for key in ("output", "outcomes"):
            self.docks[key].visibilityChanged.connect(lambda shown: self.pacer.frame() if shown else None)
        self.data_panel.csv_file_wanted.connect(self._choose_csv)
        c.session_changed.connect(lambda info: self.why_panel.set_plan(info.plan, len(info.dataset.X_train)))
        c.frame_ready.connect(lambda _: self.why_panel.on_frame(c.is_running))
        c.explained.connect(self.why_panel.show_explanation)
        self.why_panel.explain_requested.connect(c.explain)
        self.views.currentChanged.connect(self._on_view_changed)
        self.network_view.weight_clicked.connect(self._show_weight)
        self.training_panel.curvature_requested.connect(self._measure_curvature)
        c.explained.connect(self._show_curvature)
        self.race_panel.race_requested.connect(c.race)
        c.raced.connect(self.race_panel.show_race)
        # A race runs beside training: its progress shows in its tab and, wherever the
        # user is, in the status bar, and either can cancel it.
        for shows in (self.race_panel, self.race_badge):
            c.race_busy.connect(shows.set_racing)
            c.race_progress.connect(shows.show_progress)
            shows.cancel_requested.connect(c.cancel_race)
        self.race_badge.show_requested.connect(lambda: self.views.setCurrentWidget(self.race_panel))
        self.teaching.connect(c, self.boundary, self.loss_plot, self.documents.new_from_example,
                              lambda text: self.statusBar().showMessage(text, 20000), self)
        self.toolbar.reset_action.triggered.connect(self.banner.hide)
        self.toolbar.speed.currentIndexChanged.connect(
            lambda: setattr(self.settings, "speed", self.toolbar.speed.currentText()))

    def name_internal_controls(self) -> None:
        """Give Qt's built-in child controls (dock buttons, spin-box editors) names and tips."""
        for widget in self.findChildren(QWidget):
            known = _INTERNAL_NAMES.get(widget.objectName())
            if known and isinstance(widget, QAbstractButton):
                widget.setAccessibleName(known[0])
                widget.setToolTip(known[1])
            parent = widget.parentWidget()
            if isinstance(widget, QLineEdit) and isinstance(parent, (QAbstractSpinBox, QComboBox)):
                widget.setAccessibleName(widget.accessibleName() or parent.accessibleName())
                widget.setToolTip(widget.toolTip() or parent.toolTip())

    # -- signals from the controller -------------------------------------------------------
    def _show_project(self, project) -> None:
        self.data_panel.show_project(project)
        self.training_panel.show_project(project)
        self._update_title()

    def _on_session(self, info) -> None:
        layers = [s.node.id for s in info.plan.dense_steps]
        self.network_view.set_session(info)
        self.boundary.set_session(info)
        self.outcomes.set_session(info)
        self._name_output_dock(info)
        if not self.boundary.has_plane:
            # One input, no plane to draw on: the outcomes are what there is to see.
            self.docks["outcomes"].raise_()
        self.weights_plot.set_layers(layers)
        self.gradients_plot.set_layers(layers)
        if self.text_zoom.factor != 1.0:
            self.text_zoom.apply_to_plots()     # axes a view made for this session start at pyqtgraph's size
        self.loss_plot.clear()
        self.status.clear()
        self.banner.hide()
        self._last_step = -1
        self._clear_results()

    def _on_frame(self, frame) -> None:
        step = frame.snapshot.step
        if step < self._last_step:          # reset: the curves start again
            for plot in self.plots:
                plot.clear()
            self.banner.hide()
            self._clear_results()
        for panel in self.result_panels:
            panel.note_step(step)
        self.keeper.note_step(step)
        self._last_step = step
        self.status.show_frame(frame)
        for view in self.pacer.views:       # every live view takes the frame the same way
            view.show_frame(frame)
        self.pacer.frame()
        self.frames_received += 1

    def _name_output_dock(self, info) -> None:
        """The output dock says which plane it shows: the data's own, or a projection."""
        if info.dataset.points_train is not None:
            title = "Output over the input plane"
        else:
            title = "Output over the data's principal plane" if self.boundary.has_plane else "Output"
        self.docks["output"].setWindowTitle(title)

    def _clear_results(self) -> None:
        for panel in self.result_panels:
            panel.clear_results()

    def _on_diverged(self, divergence) -> None:
        frame = self.controller.latest_frame
        lr = frame.snapshot.lr if frame is not None else None
        text = self.banner.show_divergence(divergence, lr)
        self.statusBar().showMessage(text, 15000)

    def _measure_curvature(self) -> None:
        request = self.why_panel.current_request(with_curvature=True)
        if request is not None:
            self.controller.explain(request)

    def _show_curvature(self, explanation) -> None:
        if explanation.limit is not None:
            self.training_panel.show_curvature(explanation.limit, explanation.step)

    def _show_weight(self, node_id: str, unit: int, source: int) -> None:
        """A click on an edge: the chain rule for that weight."""
        self.views.setCurrentWidget(self.why_panel)
        self.why_panel.select_weight(node_id, unit, source)

    def _on_view_changed(self, _index: int) -> None:
        shown = self.views.currentWidget()
        if shown is self.why_panel:
            self.why_panel.request()

    # -- small actions ------------------------------------------------------------------------
    def _choose_csv(self) -> None:
        path = self.documents.choose_csv()
        if path:
            self.data_panel.import_csv(path)

    def _update_title(self) -> None:
        project = self.keeper.project
        if project is None:
            return
        where = project.path.name if project.path else "unsaved"
        self.setWindowTitle(f"{project.name or 'Untitled'} ({where}){' *' if self.keeper.dirty else ''} "
                            "— NN Playground")

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, name)
        for view in (*self.plots, self.boundary, self.outcomes, self.network_view, self.why_panel, self.race_panel,
                     *self.teaching.themed):
            view.set_theme(name)
        self.theme_actions[name].setChecked(True)
        self.settings.theme = name

    def reset_layout(self) -> None:
        """Every panel back in the default arrangement for the window's present size."""
        self.dock_layout.arrange(self.size())
        if self.controller.session_info is not None and not self.boundary.has_plane:
            self.docks["outcomes"].raise_()

    def fit_to_screen(self, area: QRect | None = None) -> None:
        """Size the window to ``area`` (the screen's available area by default, up to
        MAX_DEFAULT) and arrange the docks for that size."""
        screen = self.screen() or QApplication.primaryScreen()
        area = area or screen.availableGeometry()
        # The window manager's frame comes on top of the size set here.
        frame = self.frameGeometry().size() - self.geometry().size() if self.isVisible() else QSize(0, 0)
        size = (area.size() - frame).boundedTo(MAX_DEFAULT)
        self.resize(size)
        self.move(area.topLeft())
        self.dock_layout.arrange(size)

    def show_guide(self) -> None:
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show()
        self._guide.raise_()

    def show_about(self) -> None:
        show_about(self)

    # -- settings and closing ---------------------------------------------------------------
    def _restore_settings(self) -> None:
        self.text_zoom.apply()              # first: the text size decides the panels' sizes
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
            if state is None or not self.restoreState(state):
                self.dock_layout.arrange(self.size())
        else:
            self.fit_to_screen()
        self.set_theme(self.settings.theme if self.settings.theme in self.theme_actions else "light")
        self.toolbar.set_speed_label(self.settings.speed)

    def confirm_discard(self) -> bool:
        """Before unsaved changes would be lost: save them, drop them, or stay (False)."""
        if not self.keeper.dirty or self.keeper.project is None:
            return True
        answer = self.prompter.unsaved_changes(self.keeper.project.name or "Untitled")
        if answer == Prompter.SAVE:
            return self.documents.save_project()
        return answer == Prompter.DISCARD

    def offer_recovery(self) -> bool:
        """After a crash: offer the autosaved project back (True if restored)."""
        project = self.autosave.recoverable()
        if project is None:
            if self.autosave.unreadable is not None:
                self.prompter.recovery_unreadable(*self.autosave.unreadable)
            return False
        if not self.prompter.restore_recovered(project.name or "Untitled"):
            self.autosave.discard()
            return False
        self.keeper.load(project, dirty=True)
        if self.autosave.recovered_drawing is not None:
            self.editor.restore_drawing(self.autosave.recovered_drawing)
            self.views.setCurrentWidget(self.editor)
        return True

    def closeEvent(self, event) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        self.documents.cancel_exports()     # a half-written export is thrown away, not left behind
        self.autosave.discard()
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        if self.keeper.project is not None and self.keeper.project.path is not None:
            self.settings.q.setValue("last_project", str(self.keeper.project.path.resolve()))
        self.settings.sync()
        self.controller.shutdown()
        self.network_view.shutdown()
        super().closeEvent(event)
