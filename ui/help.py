"""Help > About and Help > Why derivatives?: a short guide tied to what is on screen."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout

GUIDE = """
<h2>Why derivatives?</h2>

<h3>1. Why take the derivative of the transfer function?</h3>
<p>Training changes each weight a little in the direction that lowers the loss.
That direction is the slope of the loss with respect to the weight, dL/dw: if the
loss rises when w grows, w should shrink, and the steeper the slope the bigger the
nudge. Backpropagation finds that slope with the chain rule. For a weight w
carrying the output a<sub>i</sub> of neuron i into neuron j, whose input sum is
z<sub>j</sub> and whose output is f(z<sub>j</sub>):</p>
<p align="center"><b>dL/dw = dL/da<sub>j</sub> &times; f&prime;(z<sub>j</sub>) &times; a<sub>i</sub></b></p>
<p>Read it as: how much the loss cares about neuron j's output, times how strongly
neuron j's output reacts to its input sum right now (the transfer function's
slope), times how much of that sum came through this weight. The derivative of the
transfer function is simply the middle link of the chain; without it there is no
way to pass the error from a neuron's output back to the weights feeding it.</p>
<p><i>On screen:</i> click any edge in the <b>Neurons</b> tab: the <b>Why? (chain
rule)</b> tab shows this product for that weight with its numbers on one training
example, and checks it against a finite difference (nudge w up and down, see how the
loss moves): "agrees", "disagrees", or "cannot tell" when the slope is too small for
a finite difference to resolve, always with the error bar behind the verdict. Every update moves the weights a little, so the edges of the network
(thickness = |w|, colour = sign) change as training runs; the gradient plot shows
the size of dL/dw for each layer.</p>

<h3>2. What does the learning rate do?</h3>
<p>The update is w &larr; w &minus; lr &middot; dL/dw. The learning rate sets the step length.
Too small and training crawls: the loss curve is a slow slope. Too large and each
step jumps past the bottom of the valley to the other side. Near a minimum, plain
full-batch gradient descent settles only while lr is below 2 divided by the largest
curvature &lambda;<sub>max</sub> (the largest eigenvalue of the Hessian). Just above that limit
it does not explode: along the steepest direction every step overshoots by more than
it corrects, so it is thrown out of that valley and usually settles somewhere
flatter, where the limit is larger. The loss runs off to NaN only at much larger
rates.</p>
<p>The limit belongs to plain gradient descent. Heavy-ball momentum &beta; moves it to
2(1 + &beta;)/&lambda;<sub>max</sub> (Nesterov: 2(1 + &beta;)/((1 + 2&beta;)&lambda;<sub>max</sub>)). Adam, RMSprop and
Adagrad divide each step by a running size of the gradient, and Rprop and sign-SGD
use only its sign: their steps do not grow with the curvature, so no such limit
applies; too large a rate makes them jitter. Minibatches add noise to every step.</p>
<p><i>On screen:</i> pick the <b>plane</b> data set (a regression), the <b>sgd</b>
optimiser and a learning rate of 1 or more, then press play: within a hundred steps the
gradient norms shoot up, training stops before the numbers turn into NaN, and a red
banner says what happened. Reset with 0.01 and the loss glides down instead. The
<b>Why?</b> tab's "Measure curvature" measures &lambda;<sub>max</sub> and says how your learning
rate compares with the limit <i>for your optimiser</i>; the dashed line on "Loss along
the gradient" marks where a plain gradient step at your rate lands.</p>

<h3>3. Why does sigmoid's derivative o(1 &minus; o) appear?</h3>
<p>The sigmoid's slope can be written with its own output o: f&prime;(z) = o(1 &minus; o).
That is handy (backprop already has o from the forward pass) and revealing: the
product is largest, 0.25, at o = 0.5, and close to zero when the neuron is saturated
near 0 or 1. Each sigmoid layer therefore multiplies the backward signal by at most
a quarter. Stack a few and the first layers receive a tiny fraction of the
gradient: they learn very slowly. That is the vanishing-gradient problem.</p>
<p><i>On screen:</i> choose <b>sigmoid</b> as the hidden activation on the spiral,
add layers with the + button, and watch the gradient-norm plot: the curves of the
early layers drop decades below the last layer's. Switch to <b>relu</b> or
<b>tanh</b> and compare.</p>

<h3>4. Why does cross-entropy make the derivative disappear?</h3>
<p>With a sigmoid output p and binary cross-entropy L = &minus;[y ln p + (1 &minus; y) ln(1 &minus; p)],
dL/dp = (p &minus; y) / (p(1 &minus; p)). Multiply by the sigmoid's slope p(1 &minus; p) and the
two factors cancel: the error arriving at the output's input sum is just
<b>p &minus; y</b>. (Softmax with cross-entropy cancels the same way.) With mean squared
error the slope does not cancel: the error is 2(p &minus; y)&middot;p(1 &minus; p), so an
output that is confidently wrong (p near 0 when y = 1) gets almost no gradient and
stays wrong for a long time.</p>
<p><i>On screen:</i> switch the loss between <b>bce</b> and <b>mse</b> with a sigmoid
output and compare how fast the loss curve falls at the start and the size of the
output layer's gradient.</p>

<h3>5. What is the Hessian, and what is a saddle?</h3>
<p>The Hessian is the matrix of second derivatives: how the slope itself changes as
the weights move. Its eigenvalues are the curvatures along its eigenvectors. All
positive: a minimum, a bowl. Some negative: a <b>saddle</b>, where the loss still falls
along some directions. Trained networks sit on saddles far more often than on
minima. The ratio &lambda;<sub>max</sub>/&lambda;<sub>min</sub> of a minimum (the condition number) says how
narrow the valley is and why plain gradient descent zig-zags across it.</p>
<p><i>On screen:</i> "Measure curvature" on the <b>Why?</b> tab plots every eigenvalue found
(orange ones are negative) and says whether the point is a minimum, a saddle, or too
flat to tell. For small networks it finds all of them; for large ones only some,
and then it says that a minimum is not proven.</p>

<h3>6. Is backprop the same as gradient descent?</h3>
<p>No. Backprop only computes the gradient; an optimiser decides what to do with it.
Gradient descent steps straight downhill; momentum and Adam remember past steps;
Rprop adapts a step per weight from the gradient's sign, and sign-SGD takes the
sign with a step that decays; L-BFGS and conjugate gradient build up a picture
of the curvature; Newton's method uses the curvature (the Hessian) directly and jumps
to the bottom of the fitted parabola; Nelder-Mead and Hooke-Jeeves use no derivative
at all, only loss values.</p>
<p><i>On screen:</i> the <b>Race optimisers</b> tab runs them from the same weights
and plots the loss against evaluations, gradients or seconds.</p>
"""

ABOUT = ("<h3>NN Playground</h3><p>Build a small neural network, press play and watch it learn: "
         "the decision boundary, the loss, the weights and the gradients, live.</p>"
         "<p>Pure NumPy engine, Qt (PySide6) and pyqtgraph interface. Projects are JSON files that "
         "the <code>playground train</code> command runs headless.</p>")


class GuideDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Why derivatives?")
        self.resize(640, 720)
        self.browser = QTextBrowser()
        self.browser.setHtml(GUIDE)
        self.browser.setAccessibleName("Guide text")
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        close = buttons.button(QDialogButtonBox.Close)
        close.setAccessibleName("Close guide")
        close.setToolTip("Close this guide")
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


def show_about(parent) -> None:
    QMessageBox.about(parent, "About NN Playground", ABOUT)
