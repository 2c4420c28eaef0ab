"""Play/pause, one step, one epoch, reset, and the speed: the controller's commands."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QStyle, QToolBar

# (label, (unit, rate)); None is as fast as the machine allows.  "epochs" rates are
# turned into updates per second for the session on screen: TensorFlow Playground
# trains one epoch per animation frame, which is what a learner is used to watching.
PLAYGROUND_PACE = "Playground pace (30 epochs/s)"
SPEEDS = (("Slow (2 steps/s)", ("steps", 2.0)), ("Steady (10 steps/s)", ("steps", 10.0)),
          ("Fast (100 steps/s)", ("steps", 100.0)), (PLAYGROUND_PACE, ("epochs", 30.0)),
          ("Very fast (1,000 steps/s)", ("steps", 1000.0)), ("Max", None))
DEFAULT_SPEED = PLAYGROUND_PACE


def steps_per_second(speed, steps_per_epoch: int) -> float | None:
    """The engine's speed (updates per second, None = Max) for a SPEEDS value."""
    if speed is None:
        return None
    unit, rate = speed
    return rate * max(1, steps_per_epoch) if unit == "epochs" else rate


class TrainingToolbar(QToolBar):
    def __init__(self, controller, parent=None):
        super().__init__("Training controls", parent)
        self.setObjectName("training_toolbar")
        self.controller = controller
        style = self.style()
        self._icons = (style.standardIcon(QStyle.SP_MediaPlay), style.standardIcon(QStyle.SP_MediaPause))
        self.play_action = self._action("Play", "Start training; press again (or Space) to pause.",
                                        self._icons[0], QKeySequence(Qt.Key_Space), controller.toggle)
        self.step_action = self._action("Step", "Run one update on one batch, then stop.",
                                        style.standardIcon(QStyle.SP_MediaSkipForward),
                                        QKeySequence("Ctrl+Right"), lambda: controller.step(1))
        self.epoch_action = self._action("Epoch", "Train until the current pass over the training data ends.",
                                         style.standardIcon(QStyle.SP_MediaSeekForward),
                                         QKeySequence("Ctrl+Shift+Right"), controller.epoch)
        self.reset_action = self._action("Reset", "Pause and start again from new initial weights at step 0.",
                                         style.standardIcon(QStyle.SP_BrowserReload), QKeySequence("Ctrl+R"),
                                         controller.reset)
        self.addSeparator()
        self.addWidget(QLabel(" Speed "))
        self.speed = QComboBox()
        self.speed.setAccessibleName("Training speed")
        self.speed.setToolTip("Updates per second. Slow speeds let you watch single steps; Playground pace "
                              "trains one epoch per animation frame, as TensorFlow Playground does; Max trains "
                              "as fast as the computer allows.")
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.speed.currentIndexChanged.connect(self._apply_speed)
        controller.session_changed.connect(lambda _: self._apply_speed())    # epochs: new batch count
        self.addWidget(self.speed)
        controller.running_changed.connect(self.show_running)
        self.name_buttons()

    def _action(self, text, tip, icon, shortcut, slot) -> QAction:
        action = QAction(icon, text, self)
        action.setToolTip(f"{tip} ({shortcut.toString(QKeySequence.NativeText)})")
        action.setShortcut(shortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def name_buttons(self) -> None:
        """Tool buttons take their accessible name from their action's text."""
        for action in self.actions():
            button = self.widgetForAction(action)
            if isinstance(button, QAbstractButton):
                button.setAccessibleName(action.text())
                button.setToolTip(action.toolTip())

    def set_speed_label(self, label: str) -> None:
        index = self.speed.findText(label)
        if index >= 0:
            self.speed.setCurrentIndex(index)
        self._apply_speed()

    def _apply_speed(self) -> None:
        info = self.controller.session_info
        self.controller.set_speed(steps_per_second(self.speed.currentData(), info.steps_per_epoch if info else 1))

    def show_running(self, running: bool) -> None:
        action = self.play_action
        action.setText("Pause" if running else "Play")
        action.setIcon(self._icons[running])
        action.setToolTip(("Pause training (Space)." if running else
                           "Start training; press again (or Space) to pause. (Space)"))
        self.name_buttons()
